/**
 * nbops for JupyterLab: registration only. The behaviour lives in model.ts (state, lint and
 * fix requests), panels/lint.ts (the sidebar), modularize.ts and panels/modularize.ts (the
 * Modularize preview), statusbar.ts and commands.ts.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';

import { addCommands, goToFinding, NbopsToolbarExtension, openPanel } from './commands';
import { nbopsIcon } from './icons';
import { NbopsModel } from './model';
import { LintPanel } from './panels/lint';
import { NbopsStatusItem } from './statusbar';
import { CommandIDs, DEFAULT_SETTINGS, PLUGIN_ID, type ISettings } from './tokens';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'nbops: lint notebooks, apply safe fixes, modularize, submit for review.',
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
    const model = new NbopsModel(tracker);

    const panel = new LintPanel({
      model,
      onLint: () => void app.commands.execute(CommandIDs.lint),
      onFixAll: () => void app.commands.execute(CommandIDs.fixAllSafe),
      onModularize: () => void app.commands.execute(CommandIDs.modularize),
      onFix: (notebook, diagnostic) => void model.fixOne(notebook, diagnostic),
      onGoTo: (notebook, diagnostic) => void goToFinding(app, notebook, diagnostic)
    });
    panel.title.icon = nbopsIcon;
    app.shell.add(panel, 'right', { rank: 600 });

    addCommands(app, model, tracker);
    app.docRegistry.addWidgetExtension('Notebook', new NbopsToolbarExtension(app, model));

    if (palette) {
      for (const command of [
        CommandIDs.lint,
        CommandIDs.fixAllSafe,
        CommandIDs.modularize,
        CommandIDs.openPanel,
        CommandIDs.submitForReview
      ]) {
        palette.addItem({ command, category: 'nbops' });
      }
    }

    if (statusBar) {
      const item = new NbopsStatusItem(model, () => openPanel(app));
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
