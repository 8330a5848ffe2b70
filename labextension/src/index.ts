/**
 * nbops for JupyterLab: registration only. The behaviour lives in model.ts (state, lint and
 * fix requests), panels/sidebar.ts (the sidebar's "Lint" | "Run" | "Hackathon" tabs),
 * panels/lint.ts (the Lint tab), runs.ts, runform.ts and panels/run/ (the Run tab),
 * hackathon.ts and panels/hackathon.ts (the Hackathon tab), models.ts and panels/models.ts
 * (the Models tab), health.ts and panels/health.ts (the Health tab), modularize.ts and
 * panels/modularize.ts (the Modularize preview), submit.ts and panels/submit.ts (the Submit for
 * review dialog), statusbar.ts and commands.ts. store.ts follows the current notebook for all
 * of them; poll.ts follows the server's background jobs for runs.ts and hackathon.ts.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';

import {
  addCommands,
  goToCell,
  goToFinding,
  NbopsToolbarExtension,
  openExecutedNotebook,
  openPanel
} from './commands';
import { HackathonModel } from './hackathon';
import { nbopsIcon } from './icons';
import { NbopsModel } from './model';
import { HealthModel } from './health';
import { ModelsModel } from './models';
import { HackathonPanel } from './panels/hackathon';
import { HealthPanel } from './panels/health';
import { LintPanel } from './panels/lint';
import { ModelsPanel } from './panels/models';
import { RunPanel } from './panels/run';
import { NbopsSidebar } from './panels/sidebar';
import { RunsModel } from './runs';
import { NbopsStatusItem } from './statusbar';
import { NotebookStore } from './store';
import { CommandIDs, DEFAULT_SETTINGS, PLUGIN_ID, type ISettings } from './tokens';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'nbops: lint notebooks, apply safe fixes, modularize, run with parameters, submit for ' +
    'review, score hackathon work.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ISettingRegistry, IStatusBar],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    statusBar: IStatusBar | null
  ) => {
    // the current notebook, its path, readiness and unsaved changes: watched once, for all
    const store = new NotebookStore(tracker);
    const model = new NbopsModel(store);
    const runs = new RunsModel(store, () => model.settings.runPollIntervalMs);
    const hackathon = new HackathonModel(store, () => model.settings.runPollIntervalMs);

    const lintPanel = new LintPanel({
      model,
      onLint: () => void app.commands.execute(CommandIDs.lint),
      onFixAll: () => void app.commands.execute(CommandIDs.fixAllSafe),
      onModularize: () => void app.commands.execute(CommandIDs.modularize),
      onFix: (notebook, diagnostic) => void model.fixOne(notebook, diagnostic),
      onGoTo: (notebook, diagnostic) => void goToFinding(app, notebook, diagnostic)
    });
    const runPanel = new RunPanel({
      model: runs,
      settings: () => model.settings,
      onOpen: path => void openExecutedNotebook(app, path),
      onGoToCell: (notebook, index) => void goToCell(app, notebook, index),
      onSave: notebook => void notebook.context.save()
    });
    const hackathonPanel = new HackathonPanel({
      model: hackathon,
      onSubmit: () => void app.commands.execute(CommandIDs.submitForReview),
      onSave: notebook => void notebook.context.save()
    });
    const modelsPanel = new ModelsPanel({ model: new ModelsModel(store) });
    const healthPanel = new HealthPanel({ model: new HealthModel(store) });
    const sidebar = new NbopsSidebar({
      lint: lintPanel,
      run: runPanel,
      hackathon: hackathonPanel,
      models: modelsPanel,
      health: healthPanel
    });
    // the registry is read when the Models tab is shown, and for another notebook's project
    sidebar.currentChanged.connect((_, tab) => tab === 'models' && modelsPanel.refresh());
    store.changed.connect(
      (_, what) => what === 'current' && sidebar.current === 'models' && modelsPanel.refresh()
    );
    // the checks are read when the Health tab is shown, and for another notebook's project
    sidebar.currentChanged.connect((_, tab) => tab === 'health' && healthPanel.refresh());
    store.changed.connect(
      (_, what) => what === 'current' && sidebar.current === 'health' && healthPanel.refresh()
    );
    sidebar.title.icon = nbopsIcon;
    runPanel.runningChanged.connect((_, n) =>
      sidebar.setBadge('run', n, n > 0 ? `${n} running` : '')
    );
    sidebar.setTabHidden('hackathon', !hackathonPanel.available);
    hackathonPanel.availableChanged.connect((_, available) =>
      sidebar.setTabHidden('hackathon', !available)
    );
    hackathonPanel.runningChanged.connect((_, running) =>
      sidebar.setBadge('hackathon', running ? '…' : '', running ? 'scoring' : '')
    );
    app.shell.add(sidebar, 'right', { rank: 600 });

    addCommands(app, model, sidebar, hackathon);
    app.docRegistry.addWidgetExtension('Notebook', new NbopsToolbarExtension(app, model, sidebar));

    if (palette) {
      for (const command of [
        CommandIDs.lint,
        CommandIDs.fixAllSafe,
        CommandIDs.modularize,
        CommandIDs.openPanel,
        CommandIDs.runNotebook,
        CommandIDs.submitForReview,
        CommandIDs.scoreHackathon
      ]) {
        palette.addItem({ command, category: 'nbops' });
      }
    }

    if (statusBar) {
      const item = new NbopsStatusItem(model, () => openPanel(app, sidebar));
      statusBar.registerStatusItem(PLUGIN_ID, {
        item,
        align: 'left',
        rank: 5,
        isActive: () => model.current !== null,
        activeStateChanged: item._activeChanged
      });
    }

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const update = () => {
            model.settings = settings.composite as unknown as ISettings;
            runPanel.refreshSettings();
          };
          update();
          settings.changed.connect(update);
        })
        .catch(reason => {
          console.warn('nbops: could not load settings, using the defaults.', reason);
          model.settings = DEFAULT_SETTINGS;
        });
    }
  }
};

export default plugin;
