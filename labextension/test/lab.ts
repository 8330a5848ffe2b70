/**
 * Stand-ins for the two JupyterLab objects the models are given: a notebook panel (its path,
 * a real NotebookModel, the ready, save, rename and dispose signals) and the notebook tracker.
 * A real panel needs a running Jupyter server behind its document context; the browser tests
 * cover that.
 */
import type * as nbformat from '@jupyterlab/nbformat';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { NotebookModel, type INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { PromiseDelegate } from '@lumino/coreutils';
import { Signal } from '@lumino/signaling';

export class PanelStandIn {
  readonly disposed = new Signal<this, void>(this);
  readonly context: {
    localPath: string;
    model: NotebookModel;
    ready: Promise<void>;
    isReady: boolean;
    saveState: Signal<unknown, DocumentRegistry.SaveState>;
    pathChanged: Signal<unknown, string>;
  };
  isDisposed = false;

  /** `ready: false`: the context becomes ready on `makeReady()`. */
  constructor(path: string, cells: Partial<nbformat.ICell>[] = [], ready = true) {
    const model = new NotebookModel();
    model.sharedModel.insertCells(
      0,
      cells.map(c => ({ cell_type: 'code', source: '', ...c }) as nbformat.ICell)
    );
    model.dirty = false; // as a document just loaded from disk
    this._ready = new PromiseDelegate<void>();
    this.context = {
      localPath: path,
      model,
      ready: this._ready.promise,
      isReady: false,
      saveState: new Signal(this),
      pathChanged: new Signal(this)
    };
    if (ready) {
      this.makeReady();
    }
  }

  get panel(): NotebookPanel {
    return this as unknown as NotebookPanel;
  }

  makeReady(): void {
    this.context.isReady = true;
    this._ready.resolve();
  }

  /** What a rename in the file browser does to the context. */
  rename(path: string): void {
    this.context.localPath = path;
    this.context.pathChanged.emit(path);
  }

  /** What a completed save does: the model is clean, then `saveState` says so. */
  save(): void {
    this.context.saveState.emit('started');
    this.context.model.dirty = false;
    this.context.saveState.emit('completed');
  }

  dispose(): void {
    this.isDisposed = true;
    this.disposed.emit();
  }

  private _ready: PromiseDelegate<void>;
}

export class TrackerStandIn {
  readonly widgetAdded = new Signal<this, NotebookPanel>(this);
  readonly currentChanged = new Signal<this, NotebookPanel | null>(this);
  currentWidget: NotebookPanel | null = null;
  private _panels: NotebookPanel[] = [];

  get tracker(): INotebookTracker {
    return this as unknown as INotebookTracker;
  }

  /** Open `panel`: it becomes the current notebook (the tracker forgets it when disposed). */
  add(panel: PanelStandIn): void {
    this._panels.push(panel.panel);
    panel.disposed.connect(() => {
      this._panels = this._panels.filter(p => p !== panel.panel);
      if (this.currentWidget === panel.panel) {
        this.select(null);
      }
    });
    this.widgetAdded.emit(panel.panel);
    this.select(panel);
  }

  /** Make `panel` the current notebook. */
  select(panel: PanelStandIn | null): void {
    this.currentWidget = panel?.panel ?? null;
    this.currentChanged.emit(this.currentWidget);
  }

  forEach(fn: (panel: NotebookPanel) => void): void {
    this._panels.forEach(fn);
  }
}
