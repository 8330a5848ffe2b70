/**
 * Stand-ins for the two JupyterLab objects the models are given: a notebook panel (its path,
 * a real NotebookModel, the save and dispose signals) and the notebook tracker. A real panel
 * needs a running Jupyter server behind its document context; the browser tests cover that.
 */
import type * as nbformat from '@jupyterlab/nbformat';
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import { NotebookModel, type INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { Signal } from '@lumino/signaling';

export class PanelStandIn {
  readonly disposed = new Signal<this, void>(this);
  readonly context: {
    localPath: string;
    model: NotebookModel;
    ready: Promise<void>;
    saveState: Signal<unknown, DocumentRegistry.SaveState>;
  };
  isDisposed = false;

  constructor(path: string, cells: Partial<nbformat.ICell>[] = []) {
    const model = new NotebookModel();
    model.sharedModel.insertCells(
      0,
      cells.map(c => ({ cell_type: 'code', source: '', ...c }) as nbformat.ICell)
    );
    this.context = {
      localPath: path,
      model,
      ready: Promise.resolve(),
      saveState: new Signal(this)
    };
  }

  get panel(): NotebookPanel {
    return this as unknown as NotebookPanel;
  }

  dispose(): void {
    this.isDisposed = true;
    this.disposed.emit();
  }
}

export class TrackerStandIn {
  readonly widgetAdded = new Signal<this, NotebookPanel>(this);
  readonly currentChanged = new Signal<this, NotebookPanel | null>(this);
  currentWidget: NotebookPanel | null = null;
  private _panels: NotebookPanel[] = [];

  get tracker(): INotebookTracker {
    return this as unknown as INotebookTracker;
  }

  add(panel: PanelStandIn): void {
    this._panels.push(panel.panel);
    this.widgetAdded.emit(panel.panel);
    this.currentWidget = panel.panel;
    this.currentChanged.emit(panel.panel);
  }

  forEach(fn: (panel: NotebookPanel) => void): void {
    this._panels.forEach(fn);
  }
}
