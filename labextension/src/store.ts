/**
 * One notebook-state store: what the models and panels know about the open notebooks,
 * watched in one place instead of by each of them.
 *
 * API (created once in index.ts and passed to the models and panels that need it):
 * - `store.current`: a snapshot `{ panel, path, ready, dirty }` of the tracker's current
 *   notebook (`panel` null when there is none; `path` its root-relative path; `ready` its
 *   document context is ready; `dirty` it has unsaved changes, false until ready).
 * - `store.changed`: emitted with what changed of the current notebook: `'current'` (another
 *   notebook, or none), `'path'` (renamed), `'ready'` (its context became ready), `'dirty'`
 *   (its unsaved-changes flag flipped, a save included). Read `store.current` for the new
 *   snapshot.
 * - `store.saved`: emitted with every tracked notebook (current or not) whose save completed.
 * - `store.added` and `store.panels`: the tracked notebooks, for models that keep
 *   per-notebook state (the lint model).
 * - `store.dispose()`.
 */
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

/** The current notebook as the store last saw it. */
export interface INotebookSnapshot {
  readonly panel: NotebookPanel | null;
  readonly path: string | null;
  readonly ready: boolean;
  readonly dirty: boolean;
}

/** What changed of the current notebook. */
export type NotebookChange = 'current' | 'path' | 'ready' | 'dirty';

const NONE: INotebookSnapshot = { panel: null, path: null, ready: false, dirty: false };

function snapshotOf(panel: NotebookPanel | null): INotebookSnapshot {
  if (!panel || panel.isDisposed) {
    return NONE;
  }
  const ready = panel.context.isReady;
  return {
    panel,
    path: panel.context.localPath,
    ready,
    dirty: ready && !!panel.context.model?.dirty
  };
}

export class NotebookStore implements IDisposable {
  constructor(tracker: INotebookTracker) {
    tracker.widgetAdded.connect((_, panel) => this._track(panel), this);
    tracker.forEach(panel => this._track(panel));
    tracker.currentChanged.connect(() => this._follow(tracker.currentWidget), this);
    this._follow(tracker.currentWidget);
  }

  /** The current notebook: `{ panel, path, ready, dirty }`. */
  get current(): INotebookSnapshot {
    return this._current;
  }

  /** Emitted with what changed of the current notebook; `current` has the new snapshot. */
  get changed(): ISignal<this, NotebookChange> {
    return this._changed;
  }

  /** Emitted with any tracked notebook whose save completed. */
  get saved(): ISignal<this, NotebookPanel> {
    return this._saved;
  }

  /** Emitted with every notebook the tracker adds. */
  get added(): ISignal<this, NotebookPanel> {
    return this._added;
  }

  /** The tracked notebooks that are still open. */
  get panels(): NotebookPanel[] {
    return [...this._panels];
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._follow(null, false);
    for (const [panel, onSave] of this._onSave) {
      panel.context.saveState.disconnect(onSave);
    }
    this._onSave.clear();
    this._panels.clear();
    Signal.disconnectReceiver(this);
    Signal.clearData(this);
  }

  /** Every tracked notebook: its saves, its end. */
  private _track(panel: NotebookPanel): void {
    if (this._panels.has(panel) || panel.isDisposed || this._disposed) {
      return;
    }
    this._panels.add(panel);
    const onSave = (_: unknown, state: DocumentRegistry.SaveState) => {
      if (state === 'completed' && !panel.isDisposed) {
        this._saved.emit(panel);
      }
    };
    this._onSave.set(panel, onSave);
    panel.context.saveState.connect(onSave);
    panel.disposed.connect(() => {
      panel.context.saveState.disconnect(onSave);
      this._onSave.delete(panel);
      this._panels.delete(panel);
      if (this._current.panel === panel) {
        this._follow(null);
      }
    });
    this._added.emit(panel);
  }

  /** Watch `panel` (the current notebook) instead of the one before. */
  private _follow(panel: NotebookPanel | null, emit = true): void {
    if (panel?.isDisposed) {
      panel = null;
    }
    const before = this._current.panel;
    if (before === panel && panel !== null) {
      return;
    }
    if (before) {
      before.context.pathChanged.disconnect(this._onPath, this);
      before.context.model?.stateChanged.disconnect(this._onModelState, this);
    }
    this._current = snapshotOf(panel);
    if (panel) {
      panel.context.pathChanged.connect(this._onPath, this);
      if (panel.context.isReady) {
        panel.context.model.stateChanged.connect(this._onModelState, this);
      } else {
        void panel.context.ready.then(() => {
          if (this._current.panel === panel && !panel.isDisposed && !this._disposed) {
            panel.context.model.stateChanged.connect(this._onModelState, this);
            this._refresh('ready');
          }
        });
      }
    }
    if (emit && before !== panel) {
      this._changed.emit('current');
    }
  }

  private _onPath(): void {
    this._refresh('path');
  }

  private _onModelState(_: unknown, change: { name: string }): void {
    if (change.name === 'dirty') {
      this._refresh('dirty');
    }
  }

  /** Take a new snapshot; emit `what` when the field it names changed. */
  private _refresh(what: Exclude<NotebookChange, 'current'>): void {
    const before = this._current;
    const after = snapshotOf(before.panel);
    this._current = after;
    if (before[what] !== after[what]) {
      this._changed.emit(what);
    }
  }

  private _current: INotebookSnapshot = NONE;
  private _panels = new Set<NotebookPanel>();
  private _onSave = new Map<NotebookPanel, (_: unknown, s: DocumentRegistry.SaveState) => void>();
  private _disposed = false;
  private _changed = new Signal<this, NotebookChange>(this);
  private _saved = new Signal<this, NotebookPanel>(this);
  private _added = new Signal<this, NotebookPanel>(this);
}
