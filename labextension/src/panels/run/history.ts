/**
 * The Run tab's history view: the notebook's runs from the tracking store (sweeps with their
 * runs nested), with status, parameters, metrics and duration. A click opens the executed
 * notebook; "MLflow" opens the run's page in the MLflow UI (`nbops ui`, setting `mlflowUiUrl`).
 *
 * CSS classes (stable hooks for browser tests):
 *   .nbops-run-history-section                       this view
 *   .nbops-run-count-badge, .nbops-run-spinner       how many runs; loading
 *   .nbops-run-history-error                         why the history could not be read
 *   .nbops-run-history                               the run history
 *     .nbops-run-when                                when a run started (date and time)
 *   .nbops-run-sweep[data-run-id][data-status]       a sweep (its runs nested)
 *     .nbops-run-sweep-toggle, .nbops-run-sweep-children   show / hide its runs
 *   .nbops-run-record[data-run-id][data-status][data-output]   a run; click opens `output`
 *     .nbops-run-record-params, .nbops-run-metric[data-name][data-value], .nbops-run-duration
 *     .nbops-run-executor[data-executor]             where it ran ("local", "dask @ ADDRESS"; a
 *                                                    sweep's too)
 *     .nbops-run-record-error                        where and why a run failed
 *     .nbops-run-open, a.nbops-run-mlflow            open the executed notebook; its MLflow page
 *   .nbops-run-empty                                 no runs yet (or no MLflow: the hint)
 *   .nbops-run-tracking                              the tracking store and the MLflow UI
 */
import type { IRunsState } from '../../runs';
import type { IRunRecord, IRunsResponse, ISettings } from '../../tokens';
import { el, plural } from '../dom';
import {
  formatDuration,
  formatNumber,
  formatWhen,
  mlflowRunUrl,
  replaceIfChanged,
  executorBadge,
  runErrorNode,
  statusClass,
  valueText
} from './common';

export interface IHistoryViewOptions {
  /** The current settings (`mlflowUiUrl`). */
  settings: () => ISettings;
  /** Open a root-relative path in JupyterLab (an executed notebook). */
  onOpen: (path: string) => void;
}

function paramsText(params: { [name: string]: unknown }): string {
  return Object.entries(params)
    .map(([name, value]) => `${name}=${valueText(value)}`)
    .join(' · ');
}

export class RunHistoryView {
  /** The section to put in the panel. */
  readonly node: HTMLElement;

  constructor(options: IHistoryViewOptions) {
    this._options = options;
    const history = el('section', 'nbops-run-section nbops-run-history-section');
    const historyHeading = el('h3', 'nbops-run-heading');
    historyHeading.append(el('span', undefined, 'History'));
    this._historyCount = el('span', 'nbops-run-count-badge');
    this._historySpinner = el('span', 'nbops-run-spinner');
    this._historySpinner.setAttribute('aria-label', 'Loading the history');
    this._historySpinner.hidden = true;
    historyHeading.append(this._historyCount, this._historySpinner);
    this._historyError = el('div', 'nbops-run-history-error');
    this._historyList = el('ul', 'nbops-run-history');
    this._historyList.setAttribute('aria-label', 'Run history');
    this._historyEmpty = el('div', 'nbops-run-empty');
    this._tracking = el('div', 'nbops-run-tracking');
    history.append(
      historyHeading,
      this._historyError,
      this._historyList,
      this._historyEmpty,
      this._tracking
    );
    this.node = history;
  }

  /** The settings changed (the MLflow URL): draw the links again on the next render. */
  refreshSettings(): void {
    this._recordCache.clear();
    this._sweepCache.clear();
    this._tracking.dataset.signature = '';
  }

  render(state: IRunsState): void {
    this._state = state;
    this._historySpinner.hidden = !state.historyLoading;
    this._historyError.replaceChildren();
    if (state.historyError) {
      this._historyError.append(runErrorNode(state.historyError, 'read the run history'));
    }
    const history = state.history;
    if (!history) {
      this._historyCount.textContent = '';
      replaceIfChanged(this._historyList, []);
      this._historyEmpty.textContent = '';
      this._tracking.replaceChildren();
      return;
    }
    const children = new Map<string, IRunRecord[]>();
    const ids = new Set(history.runs.map(r => r.run_id));
    for (const record of history.runs) {
      if (record.parent_run_id && ids.has(record.parent_run_id)) {
        const list = children.get(record.parent_run_id) ?? [];
        list.push(record);
        children.set(record.parent_run_id, list);
      }
    }
    const nodes: HTMLElement[] = [];
    let shown = 0;
    for (const record of history.runs) {
      if (record.parent_run_id && ids.has(record.parent_run_id)) {
        continue; // nested under its sweep
      }
      const kids = children.get(record.run_id);
      nodes.push(kids ? this._sweep(history, record, kids) : this._record(history, record));
      shown += kids ? kids.length : 1;
    }
    replaceIfChanged(this._historyList, nodes);
    this._historyCount.textContent = history.runs.length > 0 ? String(shown) : '';
    const missing = history.tracking.available === false;
    this._historyEmpty.textContent =
      history.runs.length > 0
        ? ''
        : missing
          ? `${history.tracking.message || 'MLflow is not installed'}: no history to show ` +
            `(${history.tracking.hint || 'pip install nbops[tracking]'}).`
          : 'No runs of this notebook yet.';
    this._historyEmpty.hidden = history.runs.length > 0;
    this._renderTracking(history);
  }

  private _renderTracking(history: IRunsResponse): void {
    const base = this._options.settings().mlflowUiUrl;
    const signature = JSON.stringify([history.tracking, base]);
    if (this._tracking.dataset.signature === signature) {
      return;
    }
    this._tracking.dataset.signature = signature;
    this._tracking.replaceChildren();
    const store = el('div', 'nbops-run-tracking-store');
    store.append(document.createTextNode('Tracked in '));
    const uri = el('code', undefined, history.tracking.uri);
    store.append(uri);
    const ui = el('div', 'nbops-run-tracking-ui');
    ui.append(document.createTextNode('MLflow links open '));
    const link = el('a', 'nbops-run-mlflow-home', base);
    link.href = base;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    ui.append(link, document.createTextNode(': start the UI with '));
    ui.append(el('code', undefined, history.tracking.ui_command || 'nbops ui'));
    ui.append(document.createTextNode(' (the URL is the "MLflow UI URL" setting).'));
    this._tracking.append(store, ui);
  }
  private _sweep(history: IRunsResponse, record: IRunRecord, kids: IRunRecord[]): HTMLElement {
    const collapsed = this._collapsed.has(record.run_id);
    const base = this._options.settings().mlflowUiUrl;
    const signature = JSON.stringify([
      record,
      kids,
      collapsed,
      base,
      formatWhen(record.start_time).text
    ]);
    const cached = this._sweepCache.get(record.run_id);
    if (cached && cached.signature === signature) {
      return cached.node;
    }
    const li = el('li', 'nbops-run-sweep');
    li.dataset.runId = record.run_id;
    li.dataset.status = record.status;
    const top = el('div', 'nbops-run-sweep-top');
    const toggle = el(
      'button',
      'jp-Button jp-mod-minimal nbops-run-sweep-toggle',
      collapsed ? '▸' : '▾'
    );
    toggle.type = 'button';
    toggle.setAttribute('aria-expanded', String(!collapsed));
    toggle.setAttribute('aria-label', `${collapsed ? 'Show' : 'Hide'} the runs of this sweep`);
    toggle.addEventListener('click', () => {
      if (this._collapsed.has(record.run_id)) {
        this._collapsed.delete(record.run_id);
      } else {
        this._collapsed.add(record.run_id);
      }
      if (this._state) {
        this.render(this._state);
      }
    });
    const failed = kids.filter(k => k.status === 'FAILED').length;
    top.append(
      toggle,
      el('span', statusClass(record.status), record.status),
      el(
        'span',
        'nbops-run-job-title',
        `Sweep · ${plural(kids.length, 'run')}${failed > 0 ? `, ${failed} failed` : ''}`
      ),
      executorBadge(record.executor, record.scheduler)
    );
    const duration = formatDuration(record.duration_s);
    if (duration) {
      top.append(el('span', 'nbops-run-duration', duration));
    }
    li.append(top);
    li.append(this._recordBottom(record, base, history));
    const ul = el('ul', 'nbops-run-sweep-children');
    ul.hidden = collapsed;
    for (const kid of kids) {
      ul.append(this._record(history, kid));
    }
    li.append(ul);
    this._sweepCache.set(record.run_id, { signature, node: li });
    return li;
  }

  private _record(history: IRunsResponse, record: IRunRecord): HTMLElement {
    const base = this._options.settings().mlflowUiUrl;
    const signature = JSON.stringify([record, base, formatWhen(record.start_time).text]);
    const cached = this._recordCache.get(record.run_id);
    if (cached && cached.signature === signature) {
      return cached.node;
    }
    const li = el('li', 'nbops-run-record');
    li.dataset.runId = record.run_id;
    li.dataset.status = record.status;
    if (record.output) {
      li.dataset.output = record.output;
    }

    const top = el('div', 'nbops-run-record-top');
    top.append(el('span', statusClass(record.status), record.status));
    const params = paramsText(record.params);
    const paramsNode = el('span', 'nbops-run-record-params', params || 'defaults');
    paramsNode.title = params
      ? Object.entries(record.params)
          .map(([k, v]) => `${k} = ${v}`)
          .join('\n')
      : 'the notebook’s defaults';
    top.append(paramsNode, executorBadge(record.executor, record.scheduler));
    const duration = formatDuration(record.duration_s);
    if (duration) {
      top.append(el('span', 'nbops-run-duration', duration));
    }
    li.append(top);

    const metrics = Object.entries(record.metrics).sort(([a], [b]) => a.localeCompare(b));
    if (metrics.length > 0) {
      const box = el('div', 'nbops-run-record-metrics');
      for (const [name, value] of metrics.slice(0, 6)) {
        const metric = el('span', 'nbops-run-metric');
        metric.dataset.name = name;
        metric.dataset.value = String(value);
        metric.title = `${name} = ${value}`;
        metric.append(
          el('span', 'nbops-run-metric-name', name),
          el('span', 'nbops-run-metric-value', formatNumber(value))
        );
        box.append(metric);
      }
      if (metrics.length > 6) {
        const more = el('span', 'nbops-run-metric-more', `+${metrics.length - 6}`);
        more.title = metrics
          .slice(6)
          .map(([k, v]) => `${k} = ${v}`)
          .join('\n');
        box.append(more);
      }
      li.append(box);
    }

    if (record.status === 'FAILED') {
      const tags = record.tags;
      const parts: string[] = [];
      if (tags['nbops.failed_cell']) {
        parts.push(`cell ${tags['nbops.failed_cell']}`);
      }
      const error = [tags['nbops.error_name'], tags['nbops.error_message']]
        .filter(Boolean)
        .join(': ');
      if (error) {
        parts.push(error);
      }
      if (parts.length > 0) {
        const node = el('div', 'nbops-run-record-error', `Failed in ${parts.join(': ')}`);
        node.title = node.textContent ?? '';
        li.append(node);
      }
    }

    li.append(this._recordBottom(record, base, history));

    if (record.output) {
      const output = record.output;
      li.classList.add('nbops-clickable');
      li.title = `Open the executed notebook ${output}`;
      li.addEventListener('click', () => this._options.onOpen(output));
    } else {
      li.title = 'The executed notebook is not under the Jupyter root (or was not written)';
    }
    this._recordCache.set(record.run_id, { signature, node: li });
    return li;
  }

  private _recordBottom(record: IRunRecord, base: string, history: IRunsResponse): HTMLElement {
    const bottom = el('div', 'nbops-run-record-bottom');
    const when = formatWhen(record.start_time);
    if (when.text) {
      const t = el('span', 'nbops-run-when', when.text);
      t.title = [`started ${when.title}`, record.name, `MLflow run ${record.run_id}`]
        .filter(Boolean)
        .join('\n');
      bottom.append(t);
    }
    const actions = el('span', 'nbops-run-record-actions');
    if (record.output) {
      const output = record.output;
      const open = el('button', 'jp-Button jp-mod-minimal nbops-run-open', 'Notebook');
      open.type = 'button';
      open.title = `Open the executed notebook ${output}`;
      open.addEventListener('click', event => {
        event.stopPropagation();
        this._options.onOpen(output);
      });
      actions.append(open);
    }
    if (record.experiment_id) {
      const link = el('a', 'nbops-run-mlflow', 'MLflow ↗');
      link.href = mlflowRunUrl(base, record);
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      link.title =
        `Open this run in the MLflow UI at ${base} (a new browser tab; the UI must be ` +
        `running: ${history.tracking.ui_command || 'nbops ui'})`;
      link.addEventListener('click', event => event.stopPropagation());
      actions.append(link);
    }
    bottom.append(actions);
    return bottom;
  }

  private _options: IHistoryViewOptions;
  private _state: IRunsState | null = null;
  private _collapsed = new Set<string>();
  private _sweepCache = new Map<string, { signature: string; node: HTMLElement }>();
  private _recordCache = new Map<string, { signature: string; node: HTMLElement }>();
  private _historyCount: HTMLSpanElement;
  private _historySpinner: HTMLSpanElement;
  private _historyError: HTMLDivElement;
  private _historyList: HTMLUListElement;
  private _historyEmpty: HTMLDivElement;
  private _tracking: HTMLDivElement;
}
