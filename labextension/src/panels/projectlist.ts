/**
 * The skeleton the Models and Health tabs share: a head with the project and "Refresh", then a
 * body drawn from the model's list: "reading…" until the first answer, the error boxes, the
 * tab's own preamble, MLflow missing on the server, the empty list, then one node per model.
 *
 * A tab extends `ProjectListPanel` and supplies the parts that differ. Hooks (`NAME` is the
 * tab's, `models` or `health`):
 *   .nbops-NAME-panel, .nbops-NAME-head, .nbops-NAME-body
 *   .nbops-NAME-project[data-project], .nbops-NAME-refresh
 *   .nbops-NAME-loading, .nbops-NAME-error[data-error][data-status]
 *   .nbops-NAME-missing, .nbops-NAME-empty
 */
import { Widget } from '@lumino/widgets';

import type { NbopsApiError } from '../api';
import type { IProjectListState, ProjectListModel } from '../projectlist';
import type { ITrackingStatus } from '../tokens';
import { button, el } from './dom';
import { errorNode, explain } from './errors';

/** What a project list answer has in common. */
export interface IProjectList<M> {
  project: string;
  tracking: Pick<ITrackingStatus, 'available' | 'message' | 'hint'>;
  models: M[];
}

/** The words and names of a tab. */
export interface IProjectListView {
  /** The class names' part: `nbops-${name}-panel`; also the endpoints' area in errors. */
  name: string;
  label: string;
  caption: string;
  refreshTitle: string;
  loading: string;
  /** The action a failed read names: "read the models". */
  reading: string;
  empty: string;
}

/** A failure of one of the tab's own actions, shown under the read's. */
export interface IActionError {
  error: NbopsApiError | null;
  /** "download" */
  what: string;
  className: string;
}

export abstract class ProjectListPanel<
  L extends IProjectList<M>,
  M,
  Model extends ProjectListModel<L, IProjectListState<L>>
> extends Widget {
  constructor(model: Model, view: IProjectListView) {
    super();
    this._model = model;
    this._view = view;
    this.id = `nbops-${view.name}-tabpanel`;
    this.addClass(`nbops-${view.name}-panel`);
    this.title.label = view.label;
    this.title.caption = view.caption;
    const head = el('div', `nbops-${view.name}-head`);
    this._project = el('span', `nbops-${view.name}-project`);
    const refresh = button(
      `jp-mod-minimal nbops-${view.name}-refresh`,
      'Refresh',
      view.refreshTitle
    );
    refresh.addEventListener('click', () => void this._model.refresh());
    head.append(this._project, refresh);
    this._body = el('div', `nbops-${view.name}-body`);
    this.node.append(head, this._body);
    this._model.changed.connect(this._render, this);
    this._render();
  }

  /** Read the list (the sidebar calls it when the tab is shown). */
  refresh(): void {
    void this._model.refresh();
  }

  dispose(): void {
    this._model.changed.disconnect(this._render, this);
    super.dispose();
  }

  /** The failures of the tab's own actions (a download, a report). */
  protected abstract _actionErrors(): IActionError[];

  /** What comes before the models (the thresholds, the triggers). */
  protected abstract _preamble(list: L): HTMLElement;

  protected abstract _modelNode(model: M): HTMLElement;

  /** Draw the body from the model's state. */
  protected _render(): void {
    const { name } = this._view;
    const state = this._model.state;
    const list = state.list;
    this._project.textContent = list ? `Project: ${list.project}` : 'Project: …';
    this._project.dataset.project = list?.project ?? '';
    const body = this._body;
    body.replaceChildren();
    if (state.loading && !list) {
      body.append(el('div', `nbops-${name}-loading`, this._view.loading));
    }
    const errors: IActionError[] = [
      { error: state.error, what: this._view.reading, className: `nbops-${name}-error` },
      ...this._actionErrors()
    ];
    for (const { error, what, className } of errors) {
      if (error) {
        body.append(
          errorNode(error, className, explain(error, what, name, 'Ask for read access.'))
        );
      }
    }
    if (!list) {
      return;
    }
    body.append(this._preamble(list));
    if (!list.tracking.available) {
      const missing = el(
        'div',
        `nbops-${name}-missing`,
        list.tracking.message ?? 'MLflow is missing'
      );
      missing.append(el('div', 'nbops-error-hint', list.tracking.hint ?? ''));
      body.append(missing);
      return;
    }
    if (list.models.length === 0) {
      body.append(el('div', `nbops-${name}-empty`, this._view.empty));
      return;
    }
    for (const model of list.models) {
      body.append(this._modelNode(model));
    }
  }

  protected _model: Model;
  private _view: IProjectListView;
  private _project: HTMLElement;
  private _body: HTMLElement;
}
