/**
 * What the Models and Health tabs' models share: a list read from the server for the current
 * notebook's project (its folder; the server root when no notebook is open), read again on
 * demand, an answer overtaken by a newer one dropped, the last failure kept to show.
 *
 * `ProjectListModel<L, S>` holds the list `L` in a state `S` (the shared fields plus the tab's
 * own, such as Promote's step); a tab's model extends it with its actions.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { toApiError, type NbopsApiError } from './api';
import type { NotebookStore } from './store';

/** The fields every project list's state has. */
export interface IProjectListState<L> {
  /** The project the list is of: a folder path (null: the server root). */
  path: string | null;
  list: L | null;
  loading: boolean;
  error: NbopsApiError | null;
}

/** The folder of a root-relative notebook path (null: the root). */
export function folderOf(path: string | null): string | null {
  if (!path) {
    return null;
  }
  const cut = path.lastIndexOf('/');
  return cut > 0 ? path.slice(0, cut) : null;
}

export class ProjectListModel<L, S extends IProjectListState<L> = IProjectListState<L>> {
  /**
   * @param store - the notebooks: the list is of the current one's project.
   * @param read - reads the list of a project (null: the server root).
   * @param initial - the state before the first read.
   */
  constructor(store: NotebookStore, read: (path: string | null) => Promise<L>, initial: S) {
    this._store = store;
    this._read = read;
    this._state = initial;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get state(): S {
    return this._state;
  }

  /** The project to read: the current notebook's folder (null: the server root). */
  get projectPath(): string | null {
    return folderOf(this._store.current.path);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Read the list again (of the current notebook's project); a newer read wins. */
  async refresh(): Promise<void> {
    const path = this.projectPath;
    const ask = ++this._asked;
    this._set({ path, loading: true } as Partial<S>);
    try {
      const list = await this._read(path);
      if (ask === this._asked && !this._disposed) {
        this._set({ list, loading: false, error: null } as Partial<S>);
      }
    } catch (reason) {
      if (ask === this._asked && !this._disposed) {
        this._set({ loading: false, error: toApiError(reason) } as Partial<S>);
      }
    }
  }

  dispose(): void {
    this._disposed = true;
    Signal.clearData(this);
  }

  protected _set(change: Partial<S>): void {
    this._state = { ...this._state, ...change };
    this._changed.emit();
  }

  private _store: NotebookStore;
  private _read: (path: string | null) => Promise<L>;
  private _state: S;
  private _asked = 0;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}
