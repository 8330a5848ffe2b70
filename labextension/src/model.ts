/**
 * Per-notebook lint state, the lint and fix requests, and when to lint.
 *
 * The panel, the status bar item and the commands all read from and act through one
 * `NbopsModel`; none of them calls the REST API itself.
 */
import { Notification } from '@jupyterlab/apputils';
import type * as nbformat from '@jupyterlab/nbformat';
import type { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';

import * as api from './api';
import { NbopsApiError } from './api';
import { applyEdits, applyNotebookContent } from './apply';
import type { NotebookStore } from './store';
import {
  DEFAULT_SETTINGS,
  type IDiagnostic,
  type IFixResponse,
  type ILintResponse,
  type IRule,
  type ISettings
} from './tokens';

export type LintStatus = 'idle' | 'linting' | 'fixing' | 'done' | 'error';

/** What the front end knows about one open notebook. */
export interface INotebookLintState {
  status: LintStatus;
  /** The last successful answer of `POST nbops/lint`. */
  result: ILintResponse | null;
  /** The last failure, cleared by the next success. */
  error: NbopsApiError | null;
  /** The notebook was edited after the content that `result` describes was sent. */
  stale: boolean;
  /** When `result` arrived. */
  lintedAt: Date | null;
}

interface IEntry {
  state: INotebookLintState;
  timer: number | null;
  /** Bumped by every lint request; an answer for an older one is dropped. */
  seq: number;
  /** Bumped by every content change of the notebook model. */
  revision: number;
  /** `revision` when the content behind `state.result` was captured. */
  lintedRevision: number;
  waiters: Array<() => void>;
}

function toApiError(reason: unknown): NbopsApiError {
  if (reason instanceof NbopsApiError) {
    return reason;
  }
  return new NbopsApiError({
    status: 0,
    error: 'client',
    message: String((reason as Error)?.message ?? reason)
  });
}

export class NbopsModel {
  /** @param store - the notebooks: each is linted on open and save; the panel shows the current one. */
  constructor(store: NotebookStore) {
    this._store = store;
    store.added.connect((_, panel) => this._attach(panel), this);
    store.panels.forEach(panel => this._attach(panel));
    store.saved.connect((_, panel) => {
      if (this._settings.lintOnSave && this._entries.has(panel)) {
        void this.scheduleLint(panel);
      }
    }, this);
    store.changed.connect((_, what) => {
      if (what === 'current') {
        this._currentChanged.emit(this.current);
      }
    }, this);
  }

  /** The notebook store the model follows. */
  get store(): NotebookStore {
    return this._store;
  }

  /** The notebook the panel shows: the current notebook. */
  get current(): NotebookPanel | null {
    return this._store.current.panel;
  }

  /** Emitted with the notebook whose state changed. */
  get stateChanged(): ISignal<this, NotebookPanel> {
    return this._stateChanged;
  }

  /** Emitted when the current notebook changes. */
  get currentChanged(): ISignal<this, NotebookPanel | null> {
    return this._currentChanged;
  }

  /** Emitted when the rules, the server version or the server error change. */
  get serverChanged(): ISignal<this, void> {
    return this._serverChanged;
  }

  get settings(): ISettings {
    return this._settings;
  }

  set settings(value: ISettings) {
    this._settings = { ...DEFAULT_SETTINGS, ...value };
  }

  /** nbops's version on the server, once known. */
  get serverVersion(): string | null {
    return this._serverVersion;
  }

  /** Why the server could not be asked for its version or rules, if it could not. */
  get serverError(): NbopsApiError | null {
    return this._serverError;
  }

  rule(code: string): IRule | undefined {
    return this._rules.get(code);
  }

  state(panel: NotebookPanel | null): INotebookLintState | null {
    if (!panel) {
      return null;
    }
    return this._entries.get(panel)?.state ?? null;
  }

  /**
   * Ask the server for its version and the rule table, once (again after a failure).
   */
  loadServerInfo(): Promise<void> {
    if (!this._serverInfo) {
      this._serverInfo = (async () => {
        try {
          const [version, rules] = await Promise.all([api.getVersion(), api.getRules()]);
          this._serverVersion = version.version;
          this._rules = new Map(rules.map(rule => [rule.code, rule]));
          this._serverError = null;
        } catch (reason) {
          this._serverError = toApiError(reason);
          this._serverInfo = null; // try again next time
        }
        this._serverChanged.emit();
      })();
    }
    return this._serverInfo;
  }

  /**
   * Lint `panel` after the debounce delay (setting `debounceMs`); calls within the delay
   * coalesce into one request. Resolves when that lint has finished.
   */
  scheduleLint(panel: NotebookPanel, delay: number = this._settings.debounceMs): Promise<void> {
    const entry = this._entries.get(panel);
    if (!entry) {
      return Promise.resolve();
    }
    if (entry.timer !== null) {
      window.clearTimeout(entry.timer);
    }
    const done = new Promise<void>(resolve => entry.waiters.push(resolve));
    entry.timer = window.setTimeout(
      () => {
        entry.timer = null;
        const waiters = entry.waiters.splice(0);
        void this._lint(panel).finally(() => waiters.forEach(resolve => resolve()));
      },
      Math.max(0, delay)
    );
    return done;
  }

  /** Lint now (still coalescing with a pending scheduled lint). */
  lintNow(panel: NotebookPanel): Promise<void> {
    return this.scheduleLint(panel, 0);
  }

  /**
   * Apply every safe fix: the server fixes the current (unsaved) content and the answer
   * is applied to the open notebook. Nothing is saved.
   */
  async fixAllSafe(panel: NotebookPanel): Promise<IFixResponse | null> {
    const entry = this._entries.get(panel);
    const model = panel.context.model;
    if (!entry || !model) {
      return null;
    }
    const revision = entry.revision;
    this._setStatus(panel, 'fixing');
    let response: IFixResponse;
    try {
      response = await api.fix({
        path: panel.context.localPath,
        content: model.toJSON() as unknown as nbformat.INotebookContent,
        ...this._selection(),
        unsafe: false
      });
    } catch (reason) {
      const error = toApiError(reason);
      this._update(panel, { status: 'error', error });
      Notification.error(`nbops fix failed: ${error.message}`, { autoClose: 5000 });
      return null;
    }
    if (panel.isDisposed) {
      return null;
    }
    if (entry.revision !== revision) {
      this._update(panel, { status: entry.state.result ? 'done' : 'idle' });
      Notification.warning(
        'The notebook changed while nbops was fixing it; nothing was applied. Try again.',
        { autoClose: 5000 }
      );
      return response;
    }
    if (response.changed) {
      try {
        applyNotebookContent(model, response.content);
      } catch (reason) {
        this._applyFailed(panel, reason);
        return null;
      }
      const n = response.applied.length;
      Notification.success(
        n > 0
          ? `nbops applied ${n} safe fix${n === 1 ? '' : 'es'}`
          : 'nbops reformatted the notebook',
        { autoClose: 3000 }
      );
    } else {
      Notification.info('nbops found no safe fixes to apply', { autoClose: 3000 });
    }
    await this.lintNow(panel);
    return response;
  }

  /**
   * Apply one finding's safe fix locally. When the notebook changed since the lint, it is
   * linted again first and the same finding looked up in the new answer.
   */
  async fixOne(panel: NotebookPanel, diagnostic: IDiagnostic): Promise<boolean> {
    const entry = this._entries.get(panel);
    const model = panel.context.model;
    if (!entry || !model) {
      return false;
    }
    let target: IDiagnostic | undefined = diagnostic;
    if (entry.revision !== entry.lintedRevision) {
      await this.lintNow(panel);
      target = entry.state.result?.diagnostics.find(d => sameFinding(d, diagnostic));
    }
    if (!target || !target.fix || target.fix.applicability !== 'safe') {
      Notification.info(`nbops: ${diagnostic.code} is no longer reported here`, {
        autoClose: 3000
      });
      return false;
    }
    if (!cellsMatch(model, target)) {
      await this.lintNow(panel);
      return false;
    }
    try {
      applyEdits(model, target.fix.edits);
    } catch (reason) {
      this._applyFailed(panel, reason);
      return false;
    }
    await this.lintNow(panel);
    return true;
  }

  dispose(): void {
    for (const entry of this._entries.values()) {
      if (entry.timer !== null) {
        window.clearTimeout(entry.timer);
      }
    }
    this._entries.clear();
    Signal.disconnectReceiver(this);
    Signal.clearData(this);
  }

  private _attach(panel: NotebookPanel): void {
    if (this._entries.has(panel)) {
      return;
    }
    const entry: IEntry = {
      state: { status: 'idle', result: null, error: null, stale: false, lintedAt: null },
      timer: null,
      seq: 0,
      revision: 0,
      lintedRevision: -1,
      waiters: []
    };
    this._entries.set(panel, entry);

    void panel.context.ready.then(() => {
      if (panel.isDisposed) {
        return;
      }
      panel.context.model.contentChanged.connect(() => {
        entry.revision++;
        if (entry.state.result && !entry.state.stale) {
          this._update(panel, { stale: true });
        }
      });
      if (this._settings.lintOnOpen) {
        void this.scheduleLint(panel);
      }
    });

    panel.disposed.connect(() => {
      if (entry.timer !== null) {
        window.clearTimeout(entry.timer);
      }
      entry.waiters.splice(0).forEach(resolve => resolve());
      this._entries.delete(panel);
    });
  }

  private async _lint(panel: NotebookPanel): Promise<void> {
    const entry = this._entries.get(panel);
    if (!entry || panel.isDisposed) {
      return;
    }
    await panel.context.ready;
    const model = panel.context.model;
    const seq = ++entry.seq;
    const revision = entry.revision;
    this._setStatus(panel, 'linting');
    try {
      const result = await api.lint({
        path: panel.context.localPath,
        content: model.toJSON() as unknown as nbformat.INotebookContent,
        ...this._selection()
      });
      if (seq !== entry.seq || panel.isDisposed) {
        return;
      }
      entry.lintedRevision = revision;
      this._update(panel, {
        status: 'done',
        result,
        error: null,
        stale: entry.revision !== revision,
        lintedAt: new Date()
      });
      if (!this._serverVersion) {
        // the server answers now: fetch the version and the rule table (tooltips) once
        void this.loadServerInfo();
      }
    } catch (reason) {
      if (seq !== entry.seq || panel.isDisposed) {
        return;
      }
      this._update(panel, { status: 'error', error: toApiError(reason) });
    }
  }

  /** `select` / `ignore` from the settings; empty lists leave the project's configuration. */
  private _selection(): { select?: string[]; ignore?: string[] } {
    const { select, ignore } = this._settings;
    return {
      ...(select.length > 0 ? { select } : {}),
      ...(ignore.length > 0 ? { ignore } : {})
    };
  }

  private _applyFailed(panel: NotebookPanel, reason: unknown): void {
    console.error('nbops: could not apply the fix to the open notebook', reason);
    const error = new NbopsApiError({
      status: 0,
      error: 'apply',
      message: `Could not apply the fix to the open notebook: ${String(
        (reason as Error)?.message ?? reason
      )}`,
      hint: 'Undo (Z in command mode) restores the notebook if it was changed in part.'
    });
    this._update(panel, { status: 'error', error });
    Notification.error(error.message, { autoClose: 5000 });
  }

  private _setStatus(panel: NotebookPanel, status: LintStatus): void {
    this._update(panel, { status });
  }

  private _update(panel: NotebookPanel, change: Partial<INotebookLintState>): void {
    const entry = this._entries.get(panel);
    if (!entry) {
      return;
    }
    entry.state = { ...entry.state, ...change };
    this._stateChanged.emit(panel);
  }

  private _store: NotebookStore;
  private _entries = new Map<NotebookPanel, IEntry>();
  private _settings: ISettings = { ...DEFAULT_SETTINGS };
  private _rules = new Map<string, IRule>();
  private _serverVersion: string | null = null;
  private _serverError: NbopsApiError | null = null;
  private _serverInfo: Promise<void> | null = null;
  private _stateChanged = new Signal<this, NotebookPanel>(this);
  private _currentChanged = new Signal<this, NotebookPanel | null>(this);
  private _serverChanged = new Signal<this, void>(this);
}

/** The same finding in two lint answers (lines may have moved). */
function sameFinding(a: IDiagnostic, b: IDiagnostic): boolean {
  if (a.code !== b.code || a.message !== b.message) {
    return false;
  }
  if (a.cell_id !== null && b.cell_id !== null) {
    return a.cell_id === b.cell_id;
  }
  return a.cell_index === b.cell_index;
}

/** The cells a diagnostic's edits point at are still where the lint saw them. */
function cellsMatch(model: INotebookModel, diagnostic: IDiagnostic): boolean {
  const cells = model.sharedModel.cells;
  if (diagnostic.cell_index !== null && diagnostic.cell_id) {
    const cell = cells[diagnostic.cell_index];
    if (!cell || cell.id !== diagnostic.cell_id) {
      return false;
    }
  }
  return (diagnostic.fix?.edits ?? []).every(
    edit => edit.cell_index >= 0 && edit.cell_index < cells.length
  );
}

/**
 * The index of the cell a finding is about in the notebook as it is now: by cell id when
 * the cell still exists, else the index the lint reported.
 */
export function findCellIndex(model: INotebookModel, diagnostic: IDiagnostic): number | null {
  const cells = model.sharedModel.cells;
  if (diagnostic.cell_id) {
    const index = cells.findIndex(cell => cell.id === diagnostic.cell_id);
    if (index >= 0) {
      return index;
    }
  }
  if (diagnostic.cell_index !== null && diagnostic.cell_index < cells.length) {
    return diagnostic.cell_index;
  }
  return null;
}
