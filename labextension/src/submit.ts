/**
 * The "Submit for review" action: a dialog with the form, the live checklist of the review
 * gate and the submit itself (`src/panels/submit.ts` renders it).
 *
 * - The checklist is of the open document, unsaved changes included (`POST nbops/check` with
 *   `content`): checked when the dialog opens, again (debounced) after every change and after
 *   a save, and on "↻".
 * - "Fix" on a failing check applies its safe fix through the lint panel's machinery
 *   (`POST nbops/fix` with `select: [fix_code]` on the unsaved content, the answer applied to
 *   the open notebook as one undoable change, not saved), then checks again.
 * - "Go to cell" closes the dialog (what was typed is kept for the next time) and makes that
 *   cell the active one, scrolled into view.
 * - "Submit for review" (enabled only when every required check passes and the notebook is
 *   saved) sends `POST nbops/submit`; the dialog shows the progress, then the branch and the
 *   pull request, or the failure in plain words. Closed meanwhile, the outcome is a
 *   notification.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, Notification } from '@jupyterlab/apputils';
import type * as nbformat from '@jupyterlab/nbformat';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { Debouncer } from '@lumino/polling';

import * as api from './api';
import { isMissingEndpoint, NbopsApiError, NbopsGateError, toApiError } from './api';
import { applyNotebookContent } from './apply';
import type { NbopsModel } from './model';
import {
  parseReviewers,
  SUBMIT_BUTTON_CLASS,
  SubmitView,
  type ISubmitFormValues
} from './panels/submit';
import type { ICheckResult, ISubmitResult } from './tokens';

/** The smallest wait between an edit and the check it causes (the gate lints and more). */
const MIN_CHECK_DELAY_MS = 800;
const SUBMIT_INDEX = 1;

/** What the user typed, per notebook path, while its dialog is closed. */
const remembered = new Map<string, ISubmitFormValues>();
/** Notebooks whose dialog is open (one at a time per notebook). */
const open = new Set<string>();

export function isSubmitDialogOpen(panel: NotebookPanel | null): boolean {
  return panel !== null && open.has(panel.context.localPath);
}

/** `Review: <the first H1 of the notebook's first non-empty cell>`, else of its file name. */
export function defaultTitle(panel: NotebookPanel): string {
  const stem =
    panel.context.localPath
      .split('/')
      .pop()
      ?.replace(/\.ipynb$/i, '') ?? 'notebook';
  const cells = panel.context.model?.sharedModel.cells ?? [];
  const first = cells.find(cell => cell.getSource().trim() !== '');
  if (first && first.cell_type === 'markdown') {
    for (const line of first.getSource().split('\n')) {
      const match = /^ {0,3}#(?!#)\s+(.+?)\s*#*\s*$/.exec(line);
      if (match) {
        return `Review: ${match[1]}`;
      }
    }
  }
  return `Review: ${stem}`;
}

/** Whether `check`'s lint code has a safe fix that applies here. */
function safeFix(model: NbopsModel, check: ICheckResult): boolean {
  if (!check.fix_code || check.cell_index === null) {
    return false; // nothing to point the fix at (e.g. no parameters cell at all)
  }
  if (check.fix_code.startsWith('FMT')) {
    return true; // black's formatting: always safe
  }
  return model.rule(check.fix_code)?.fix === 'safe';
}

/** The dialog: its "Submit for review" button submits and keeps it open; Enter never submits. */
class SubmitDialog extends Dialog<null> {
  constructor(options: Partial<Dialog.IOptions<null>>, view: SubmitView, onSubmit: () => void) {
    super(options);
    this._view = view;
    this._onSubmit = onSubmit;
  }

  resolve(index?: number): void {
    if ((index ?? SUBMIT_INDEX) === SUBMIT_INDEX) {
      if (this._view.canSubmit) {
        this._onSubmit();
      }
      return;
    }
    super.resolve(index);
  }

  protected _evtKeydown(event: KeyboardEvent): void {
    const active = document.activeElement as HTMLElement | null;
    if (event.key === 'Enter' && active && this._view.node.contains(active)) {
      if (active instanceof HTMLTextAreaElement || active instanceof HTMLAnchorElement) {
        return; // a new line; follow the link: the browser's own behaviour
      }
      event.preventDefault();
      event.stopPropagation();
      if (active instanceof HTMLButtonElement || active.tagName === 'SUMMARY') {
        active.click(); // the dialog would swallow Enter on the body's own controls
      }
      return; // Enter in a field does not submit: that takes the button
    }
    super._evtKeydown(event);
  }

  protected _evtInput(event: InputEvent): void {
    super._evtInput(event); // re-enables "accept" buttons when no field is invalid
    this._view.sync();
  }

  private _view: SubmitView;
  private _onSubmit: () => void;
}

/** Make cell `index` (0-based) of `panel` the active cell, scrolled into view. */
export type GoToCell = (panel: NotebookPanel, index: number) => Promise<void>;

/** One open dialog and what it does. */
class SubmitSession {
  constructor(panel: NotebookPanel, model: NbopsModel, goToCell: GoToCell) {
    this._goToCell = goToCell;
    this._panel = panel;
    this._model = model;
    this._path = panel.context.localPath;
    this._debouncer = new Debouncer(
      () => this.checkNow(),
      Math.max(MIN_CHECK_DELAY_MS, model.settings.debounceMs)
    );
    const title = defaultTitle(panel);
    this.view = new SubmitView({
      path: this._path,
      values: remembered.get(this._path) ?? { title, message: '', reviewers: '' },
      defaultTitle: title,
      canFix: check => safeFix(model, check),
      onGoToCell: index => this._goTo(index),
      onFix: check => void this._fix(check),
      onSave: () => void this._save(),
      onRecheck: () => void this.checkNow()
    });
    this.dialog = new SubmitDialog(
      {
        title: 'Submit for review',
        body: this.view,
        buttons: [
          Dialog.cancelButton({ label: 'Close' }),
          Dialog.okButton({
            label: 'Submit for review',
            className: SUBMIT_BUTTON_CLASS,
            caption: 'Push a review branch and open the pull request'
          })
        ],
        defaultButton: SUBMIT_INDEX,
        focusNodeSelector: 'input.nbops-submit-title'
      },
      this.view,
      () => void this._submit()
    );
  }

  readonly view: SubmitView;
  readonly dialog: SubmitDialog;

  /** Show the dialog until it is closed; then go to the cell asked for, if any. */
  async run(): Promise<void> {
    const context = this._panel.context;
    const model = context.model;
    const onContent = () => {
      this._revision++;
      if (this.view.state.gate && !this.view.state.stale) {
        this.view.setState({ stale: true });
      }
      this._schedule();
    };
    // the unsaved-changes flag, from the notebook store (the dialog is of the current notebook)
    const store = this._model.store;
    const onNotebook = () => {
      if (store.current.panel === this._panel) {
        this.view.setState({ dirty: store.current.dirty });
      }
    };
    const onDisposed = () => this.dialog.reject();
    model.contentChanged.connect(onContent);
    store.changed.connect(onNotebook);
    this._panel.disposed.connect(onDisposed);
    this.view.setState({ dirty: model.dirty });
    void this._model.loadServerInfo().then(() => this.view.setState({})); // rules: safe fixes
    void this.checkNow();
    try {
      await this.dialog.launch();
    } finally {
      this._closed = true;
      this._debouncer.dispose();
      model.contentChanged.disconnect(onContent);
      store.changed.disconnect(onNotebook);
      this._panel.disposed.disconnect(onDisposed);
      const values = this.view.values();
      remembered.set(
        this._path,
        this.view.state.phase === 'submitted' ? { ...values, message: '' } : values
      );
    }
    if (this._cell !== null && !this._panel.isDisposed) {
      await this._goToCell(this._panel, this._cell);
    }
  }

  /** Check the open document now (a pending debounced check is folded into this one). */
  async checkNow(): Promise<void> {
    if (!this._debouncer.isDisposed) {
      void this._debouncer.stop();
    }
    const seq = ++this._seq;
    const revision = this._revision;
    this.view.setState({ checking: true });
    try {
      const gate = await api.check({
        path: this._path,
        content: this._panel.context.model.toJSON() as unknown as nbformat.INotebookContent
      });
      if (seq !== this._seq || this._closed) {
        return;
      }
      const stale = revision !== this._revision;
      this.view.setState({ gate, checking: false, stale, checkError: null });
    } catch (reason) {
      if (seq !== this._seq || this._closed) {
        return;
      }
      let error = toApiError(reason);
      if (isMissingEndpoint(error)) {
        error = new NbopsApiError({
          status: error.status,
          error: error.error,
          message: 'This nbops server has no review gate (POST nbops/check).',
          hint: 'Upgrade nbops in the environment that runs Jupyter, then restart JupyterLab.'
        });
      }
      this.view.setState({ checking: false, checkError: error });
    }
  }

  private _schedule(): void {
    if (this._closed) {
      return;
    }
    void this._debouncer.invoke();
  }

  private _goTo(index: number): void {
    this._cell = index;
    this.dialog.reject(); // the cell is behind the dialog: close it, then go there
  }

  private async _save(): Promise<void> {
    try {
      await this._panel.context.save();
    } catch (reason) {
      this.view.setState({ note: `Could not save: ${toApiError(reason).message}` });
    }
    if (!this._closed) {
      this.view.setState({ dirty: this._panel.context.model.dirty });
    }
  }

  /** Apply `check`'s safe fix to the open notebook (one undoable change), then check again. */
  private async _fix(check: ICheckResult): Promise<void> {
    const code = check.fix_code;
    const model = this._panel.context.model;
    if (!code || this.view.state.fixing) {
      return;
    }
    const revision = this._revision;
    this.view.setState({ fixing: check.id, note: null });
    let note: string;
    try {
      const response = await api.fix({
        path: this._path,
        content: model.toJSON() as unknown as nbformat.INotebookContent,
        select: [code],
        // only this fix: the fixer runs every NB rule when no NB code is selected
        ...(code.startsWith('NB') ? {} : { ignore: ['NB'] }),
        unsafe: false
      });
      if (this._panel.isDisposed) {
        return;
      }
      if (revision !== this._revision) {
        note = 'The notebook changed while nbops was fixing it: nothing was applied. Try again.';
      } else if (response.changed) {
        applyNotebookContent(model, response.content);
        const n = response.applied.length;
        note =
          `${check.title}: applied ${n > 0 ? `${n} safe fix${n === 1 ? '' : 'es'}` : 'the fix'} ` +
          `(${code}) to the open notebook. Undo with Z in command mode; save to keep it.`;
      } else {
        note = `${check.title}: nbops has no safe fix to apply here. ${check.fix}`;
      }
    } catch (reason) {
      note = `${check.title}: the fix failed: ${toApiError(reason).message}`;
    }
    if (this._closed) {
      return;
    }
    this.view.setState({ fixing: null, note });
    await this.checkNow();
  }

  private async _submit(): Promise<void> {
    if (!this.view.canSubmit) {
      return;
    }
    const values = this.view.values();
    const reviewers = parseReviewers(values.reviewers);
    this.view.setState({ phase: 'submitting', error: null, result: null, note: null });
    let result: ISubmitResult;
    try {
      result = await api.submit({
        path: this._path,
        title: values.title.trim() || null,
        message: values.message.trim() || null,
        ...(reviewers.length > 0 ? { reviewers } : {})
      });
    } catch (reason) {
      const error = toApiError(reason);
      if (this._closed) {
        Notification.error(`Submit for review failed: ${error.message}`, { autoClose: false });
        return;
      }
      this.view.setState({
        phase: 'failed',
        error,
        // the gate blocked it: the checklist the server saw, with what to fix
        ...(error instanceof NbopsGateError ? { gate: error.gate, stale: false } : {})
      });
      return;
    }
    if (this._closed) {
      const where = result.pull_request?.url ?? result.compare_url ?? result.remote;
      Notification.success(`Submitted ${this._path} for review: ${result.branch} (${where})`, {
        autoClose: false
      });
      return;
    }
    this.view.setState({ phase: 'submitted', result, gate: result.gate, stale: false });
  }

  private _goToCell: GoToCell;
  private _panel: NotebookPanel;
  private _model: NbopsModel;
  private _path: string;
  private _seq = 0;
  private _revision = 0;
  /** The check after an edit, debounced (setting `debounceMs`, at least 0.8 s). */
  private _debouncer: Debouncer<void>;
  private _closed = false;
  private _cell: number | null = null;
}

/**
 * Open the "Submit for review" dialog for the notebook of `panel` (one at a time per
 * notebook). Resolves when it is closed (after going to a cell, when one was asked for).
 */
export async function submitForReview(
  app: JupyterFrontEnd,
  panel: NotebookPanel,
  model: NbopsModel,
  goToCell: GoToCell
): Promise<void> {
  const path = panel.context.localPath;
  if (open.has(path) || panel.isDisposed) {
    return;
  }
  open.add(path);
  app.commands.notifyCommandChanged();
  try {
    await panel.context.ready;
    await new SubmitSession(panel, model, goToCell).run();
  } finally {
    open.delete(path);
    app.commands.notifyCommandChanged();
  }
}
