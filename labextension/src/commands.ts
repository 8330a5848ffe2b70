/**
 * The nbops commands, their toolbar buttons and the "go to finding" action.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import type { INotebookModel, INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ToolbarButton } from '@jupyterlab/ui-components';
import type { IDisposable } from '@lumino/disposable';
import { DisposableDelegate } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import { nbopsIcon } from './icons';
import { findCellIndex, type NbopsModel } from './model';
import { isModularizing, modularizeNotebook } from './modularize';
import { CommandIDs, PANEL_ID, type IDiagnostic } from './tokens';

export function openPanel(app: JupyterFrontEnd): void {
  app.shell.activateById(PANEL_ID);
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

const SUBMIT_PLACEHOLDER =
  'Submit for review (a branch and a merge request with the checks of nbops review) ' +
  'arrives with a later release of nbops. For now, lint the notebook and apply the safe fixes.';

export function addCommands(
  app: JupyterFrontEnd,
  model: NbopsModel,
  tracker: INotebookTracker
): void {
  const { commands } = app;
  const current = (): NotebookPanel | null => {
    const widget = tracker.currentWidget;
    return widget && !widget.isDisposed ? widget : null;
  };
  const hasNotebook = () => current() !== null;

  commands.addCommand(CommandIDs.lint, {
    label: 'Lint Notebook (nbops)',
    caption: 'Lint the current notebook with nbops and show the findings',
    icon: nbopsIcon,
    isEnabled: hasNotebook,
    execute: async () => {
      const panel = current();
      openPanel(app);
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
      openPanel(app);
      void model.loadServerInfo();
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
    caption: 'Submit the notebook for review (coming in a later release)',
    execute: async () => {
      const body = new Widget();
      body.addClass('nbops-submit-dialog');
      body.node.textContent = SUBMIT_PLACEHOLDER;
      await showDialog({
        title: 'Submit for review',
        body,
        buttons: [Dialog.okButton({ label: 'OK' })]
      });
    }
  });

  tracker.currentChanged.connect(() => commands.notifyCommandChanged());
}

/** Adds "Lint", "Modularize" and "Submit for review" to every notebook's toolbar. */
export class NbopsToolbarExtension
  implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel>
{
  constructor(app: JupyterFrontEnd, model: NbopsModel) {
    this._app = app;
    this._model = model;
  }

  createNew(panel: NotebookPanel): IDisposable {
    const commands = this._app.commands;
    const lint = new ToolbarButton({
      className: 'nbops-lint-button',
      icon: nbopsIcon,
      label: 'Lint',
      tooltip: 'Lint this notebook with nbops',
      onClick: () => {
        // lint the notebook this toolbar belongs to, whichever is current
        openPanel(this._app);
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
      tooltip: 'Submit this notebook for review (coming in a later release)',
      onClick: () => {
        void commands.execute(CommandIDs.submitForReview);
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
}
