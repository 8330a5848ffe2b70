/**
 * The nbops commands, their toolbar buttons and the "go to finding" action.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import type { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { ToolbarButton } from '@jupyterlab/ui-components';
import type { IDisposable } from '@lumino/disposable';
import { DisposableDelegate } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import type { HackathonModel } from './hackathon';
import { nbopsIcon } from './icons';
import { findCellIndex, type NbopsModel } from './model';
import { isModularizing, modularizeNotebook } from './modularize';
import type { NbopsSidebar, SidebarTab } from './panels/sidebar';
import { isSubmitDialogOpen, submitForReview } from './submit';
import { CommandIDs, PANEL_ID, type IDiagnostic } from './tokens';

/** Show the nbops sidebar on `tab` ("Lint" unless told). */
export function openPanel(
  app: JupyterFrontEnd,
  sidebar: NbopsSidebar,
  tab: SidebarTab = 'lint'
): void {
  sidebar.select(tab);
  app.shell.activateById(PANEL_ID);
}

/** Make cell `index` (0-based) of `panel` the active cell and scroll it into view. */
export async function goToCell(
  app: JupyterFrontEnd,
  panel: NotebookPanel,
  index: number
): Promise<void> {
  if (panel.isDisposed) {
    return;
  }
  const notebook = panel.content;
  app.shell.activateById(panel.id);
  if (index < 0 || index >= notebook.widgets.length) {
    return;
  }
  notebook.deselectAll();
  notebook.activeCellIndex = index;
  notebook.mode = 'command';
  await notebook.scrollToItem(index, 'smart');
  notebook.activate();
}

/**
 * Make the finding's cell the active cell, scroll it into view and put the cursor at the
 * finding's line and column.
 */
export async function goToFinding(
  app: JupyterFrontEnd,
  panel: NotebookPanel,
  diagnostic: IDiagnostic
): Promise<void> {
  if (panel.isDisposed) {
    return;
  }
  const notebook = panel.content;
  const index = findCellIndex(panel.context.model, diagnostic);
  app.shell.activateById(panel.id);
  if (index === null) {
    return;
  }
  notebook.deselectAll();
  notebook.activeCellIndex = index;
  notebook.mode = 'command';
  await notebook.scrollToItem(index, 'smart');
  const cell = notebook.widgets[index];
  if (cell && diagnostic.line !== null) {
    const editor = cell.editor;
    if (editor) {
      const line = Math.max(0, Math.min(diagnostic.line - 1, editor.lineCount - 1));
      editor.setCursorPosition({ line, column: Math.max(0, (diagnostic.column ?? 1) - 1) });
    }
  }
  notebook.activate();
}

/**
 * Open an executed notebook of a run (root-relative). Jupyter does not serve hidden folders
 * (a `--runs-dir` such as `.runs/`) unless `ContentsManager.allow_hidden` is set: say so instead of
 * failing with a bare "file not found".
 */
export async function openExecutedNotebook(app: JupyterFrontEnd, path: string): Promise<void> {
  try {
    await app.serviceManager.contents.get(path, { content: false });
  } catch (reason) {
    const hidden = path.split('/').some(part => part.startsWith('.'));
    const body = new Widget();
    body.addClass('nbops-run-open-error');
    body.node.dataset.hidden = String(hidden);
    const message = document.createElement('div');
    message.className = 'nbops-error-message';
    message.textContent = hidden
      ? `${path} is in a hidden folder, which this Jupyter server does not open.`
      : `${path} cannot be opened: ${String((reason as Error)?.message ?? reason)}`;
    const hint = document.createElement('div');
    hint.className = 'nbops-error-hint';
    hint.textContent = hidden
      ? 'Start JupyterLab with --ContentsManager.allow_hidden=True to open executed notebooks ' +
        "here. The run's MLflow page has the executed notebook and its HTML as artifacts."
      : 'It may have been moved or deleted since the run.';
    body.node.append(message, hint);
    await showDialog({
      title: 'Cannot open the executed notebook',
      body,
      buttons: [Dialog.okButton({ label: 'OK' })]
    });
    return;
  }
  await app.commands.execute('docmanager:open', { path });
}

export function addCommands(
  app: JupyterFrontEnd,
  model: NbopsModel,
  sidebar: NbopsSidebar,
  hackathon: HackathonModel
): void {
  const { commands } = app;
  const current = (): NotebookPanel | null => model.store.current.panel;
  const hasNotebook = () => current() !== null;

  commands.addCommand(CommandIDs.lint, {
    label: 'Lint Notebook (nbops)',
    caption: 'Lint the current notebook with nbops and show the findings',
    icon: nbopsIcon,
    isEnabled: hasNotebook,
    execute: async () => {
      const panel = current();
      openPanel(app, sidebar);
      if (panel) {
        await model.lintNow(panel);
      }
    }
  });

  commands.addCommand(CommandIDs.fixAllSafe, {
    label: 'Fix All Safe Findings (nbops)',
    caption: 'Apply every safe nbops fix to the open notebook (not saved)',
    isEnabled: hasNotebook,
    execute: async () => {
      const panel = current();
      if (panel) {
        await model.fixAllSafe(panel);
      }
    }
  });

  commands.addCommand(CommandIDs.openPanel, {
    label: 'Show nbops Panel',
    caption: 'Open the nbops findings panel',
    execute: () => {
      openPanel(app, sidebar);
      void model.loadServerInfo();
    }
  });

  commands.addCommand(CommandIDs.runNotebook, {
    label: 'Run Notebook with Parameters (nbops)',
    caption:
      'Open the Run tab: run the saved notebook with parameters or sweep them (papermill), ' +
      'tracked in MLflow',
    execute: () => {
      openPanel(app, sidebar, 'run');
    }
  });

  commands.addCommand(CommandIDs.modularize, {
    label: 'Modularize Notebook (nbops)',
    caption:
      'Turn the saved notebook into a module, a pipeline and tests: preview the plan, then write',
    isEnabled: () => hasNotebook() && !isModularizing(current()),
    execute: async () => {
      const panel = current();
      if (panel) {
        await modularizeNotebook(app, panel);
      }
    }
  });

  commands.addCommand(CommandIDs.submitForReview, {
    label: 'Submit Notebook for Review (nbops)',
    caption:
      'Check the notebook against the review gate, then push a review branch and open a ' +
      'pull request',
    isEnabled: () => hasNotebook() && !isSubmitDialogOpen(current()),
    execute: async () => {
      const panel = current();
      if (panel) {
        await submitForReview(app, panel, model, (p, index) => goToCell(app, p, index));
      }
    }
  });

  commands.addCommand(CommandIDs.scoreHackathon, {
    label: 'Score My Hackathon Work (nbops)',
    caption:
      "Score your team's work on the hackathon exercise this notebook belongs to (the " +
      'Hackathon tab shows the scorecard and what would raise it most)',
    isEnabled: () => {
      const panel = current();
      return panel !== null && !hackathon.running(panel.context.localPath);
    },
    execute: async () => {
      const panel = current();
      if (!panel) {
        return;
      }
      const path = panel.context.localPath;
      await hackathon.load(path);
      const state = hackathon.state(path);
      if (!state.info?.exercise && state.error?.error !== 'ConfigError') {
        Notification.info(
          state.error
            ? `nbops cannot tell whether ${path} is part of a hackathon exercise: ` +
                state.error.message
            : `${path} is not part of a hackathon exercise (no hackathon.toml in its folder ` +
                'or above): there is nothing to score.',
          { autoClose: 6000 }
        );
        return;
      }
      openPanel(app, sidebar, 'hackathon');
      if (state.info?.exercise && !hackathon.running(path)) {
        await hackathon.score(path); // refused (no team, ...): the tab says why
      }
    }
  });

  model.store.changed.connect((_, what) => {
    if (what === 'current' || what === 'path') {
      commands.notifyCommandChanged(); // "Score" and "Submit" depend on the notebook's path
    }
  });
  hackathon.changed.connect(() => commands.notifyCommandChanged(CommandIDs.scoreHackathon));
}

/** Adds "Lint", "Modularize" and "Submit for review" to every notebook's toolbar. */
export class NbopsToolbarExtension implements DocumentRegistry.IWidgetExtension<
  NotebookPanel,
  INotebookModel
> {
  constructor(app: JupyterFrontEnd, model: NbopsModel, sidebar: NbopsSidebar) {
    this._app = app;
    this._model = model;
    this._sidebar = sidebar;
  }

  createNew(panel: NotebookPanel): IDisposable {
    const lint = new ToolbarButton({
      className: 'nbops-lint-button',
      icon: nbopsIcon,
      label: 'Lint',
      tooltip: 'Lint this notebook with nbops',
      onClick: () => {
        // lint the notebook this toolbar belongs to, whichever is current
        openPanel(this._app, this._sidebar);
        void this._model.lintNow(panel);
      }
    });
    const modularize = new ToolbarButton({
      className: 'nbops-modularize-button',
      label: 'Modularize',
      tooltip: 'Turn this notebook into a module, a pipeline and tests (preview first)',
      onClick: () => {
        // modularize the notebook this toolbar belongs to, whichever is current
        void modularizeNotebook(this._app, panel);
      }
    });
    const submit = new ToolbarButton({
      className: 'nbops-submit-button',
      label: 'Submit for review',
      tooltip:
        'Check this notebook against the review gate, then push a review branch and open a ' +
        'pull request',
      onClick: () => {
        // submit the notebook this toolbar belongs to, whichever is current
        void submitForReview(this._app, panel, this._model, (p, index) =>
          goToCell(this._app, p, index)
        );
      }
    });
    lint.addClass('nbops-toolbar-item');
    modularize.addClass('nbops-toolbar-item');
    submit.addClass('nbops-toolbar-item');
    panel.toolbar.insertItem(10, 'nbops-lint', lint);
    panel.toolbar.insertItem(11, 'nbops-modularize', modularize);
    panel.toolbar.insertItem(12, 'nbops-submit', submit);
    return new DisposableDelegate(() => {
      lint.dispose();
      modularize.dispose();
      submit.dispose();
    });
  }

  private _app: JupyterFrontEnd;
  private _model: NbopsModel;
  private _sidebar: NbopsSidebar;
}
