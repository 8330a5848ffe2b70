/**
 * The "Health" tab of the nbops sidebar: the health checks (`nbops monitor`) of the champions
 * of the current notebook's project (docs/monitor.md, "In JupyterLab"), read when the tab is
 * shown and on "Refresh".
 *
 * Per model: the latest check's status as a badge, "Open report" (the latest check's HTML
 * report in a new browser tab), each metric over time as a small SVG line plot, and the
 * timeline of checks newest first (status, time, version, drifted features, reasons, its
 * report). Above them, the project's triggers (`[tool.nbops.health]`), or why they cannot be
 * read.
 *
 * Plain Lumino widget + DOM (SVG drawn by hand: no chart library). Stable hooks for browser
 * tests:
 *   .nbops-health-panel                                 this tab
 *   .nbops-health-project[data-project], .nbops-health-refresh   the project; read again
 *   table.nbops-health-triggers > tr.nbops-health-trigger[data-metric]   the triggers
 *   .nbops-health-triggers-error                        [tool.nbops.health] cannot be read
 *   .nbops-health-error[data-error][data-status]        the list cannot be read
 *   .nbops-health-report-error[data-error][data-status] a report cannot be opened
 *   .nbops-health-missing                               MLflow is not installed on the server
 *   .nbops-health-empty                                 no model has checks
 *   .nbops-health-model[data-model][data-status][data-champion]   a model (status: its latest)
 *     .nbops-health-badge[data-status]                  the latest check's status
 *     button.nbops-health-open[data-run-id]             open the latest report
 *     figure.nbops-health-plot[data-metric][data-points] > svg   a metric over time
 *     ol.nbops-health-timeline > li.nbops-health-check[data-run-id][data-status][data-version]
 *       .nbops-health-drifted[data-features]            the drifted features (comma-separated)
 *       li.nbops-health-reason                          a reason
 *       button.nbops-health-report                      open this check's report
 */
import {
  driftedNames,
  latest,
  linePath,
  plots,
  scale,
  shortNumber,
  triggerLine,
  when,
  type HealthModel,
  type IPoint
} from '../health';
import type { IHealthCheck, IHealthList, IHealthModel, IHealthTrigger } from '../tokens';
import { button, el } from './dom';
import { ProjectListPanel, type IActionError } from './projectlist';

const SVG = 'http://www.w3.org/2000/svg';
const PLOT_WIDTH = 220;
const PLOT_HEIGHT = 48;
const STATUS_COLOUR: Record<string, string> = {
  OK: 'var(--jp-success-color1, #1a7f37)',
  WARN: 'var(--jp-warn-color1, #9a6700)',
  ALERT: 'var(--jp-error-color1, #cf222e)'
};

export interface IHealthPanelOptions {
  model: HealthModel;
}

export class HealthPanel extends ProjectListPanel<IHealthList, IHealthModel, HealthModel> {
  constructor(options: IHealthPanelOptions) {
    super(options.model, {
      name: 'health',
      label: 'Health',
      caption: "The health checks of the project's champions",
      refreshTitle: 'Read the health checks again',
      loading: 'Reading the health checks…',
      reading: 'read the health checks',
      empty:
        'No health check in this project’s store yet: `nbops monitor MODEL --current DATA` records one.'
    });
  }

  protected _actionErrors(): IActionError[] {
    const error = this._model.state.reportError;
    return [{ error, what: 'open the report', className: 'nbops-health-report-error' }];
  }

  /** The project's triggers, or why `[tool.nbops.health]` cannot be read. */
  protected _preamble(list: IHealthList): HTMLElement {
    if (!list.triggers_error) {
      return triggersNode(list.triggers);
    }
    const problem = el('div', 'nbops-health-triggers-error');
    problem.setAttribute('role', 'alert');
    const where = list.triggers_error.path ? `${list.triggers_error.path}: ` : '';
    problem.append(el('div', 'nbops-error-message', where + list.triggers_error.message));
    if (list.triggers_error.hint) {
      problem.append(el('div', 'nbops-error-hint', list.triggers_error.hint));
    }
    return problem;
  }

  protected _modelNode(model: IHealthModel): HTMLElement {
    const node = el('section', 'nbops-health-model');
    const last = latest(model);
    node.dataset.model = model.name;
    node.dataset.status = last?.status ?? '';
    node.dataset.champion = String(model.champion ?? '');
    const title = el('h3', 'nbops-health-name', model.name);
    const badge = el('span', 'nbops-health-badge', last?.status ?? 'no checks');
    badge.dataset.status = last?.status ?? '';
    title.append(badge);
    node.append(title);
    const line = [model.champion !== null ? `champion v${model.champion}` : 'no champion'];
    if (last) {
      line.push(`last checked ${when(last.time)}`);
    }
    node.append(el('div', 'nbops-health-summary', line.join(' · ')));
    if (!last) {
      return node;
    }
    const open = button(
      'nbops-health-open',
      'Open report',
      'Open the latest check’s report in a new browser tab'
    );
    open.dataset.runId = last.run_id;
    open.addEventListener('click', () => void this._open(model.name, last.run_id));
    node.append(open);
    const figures = el('div', 'nbops-health-plots');
    for (const plot of plots(model)) {
      figures.append(plotNode(plot.metric, plot.label, plot.points));
    }
    node.append(figures);
    const timeline = el('ol', 'nbops-health-timeline');
    timeline.setAttribute('aria-label', `Health checks of ${model.name}`);
    for (const check of model.checks) {
      timeline.append(this._checkNode(model.name, check));
    }
    node.append(timeline);
    if (model.truncated) {
      node.append(
        el(
          'div',
          'nbops-health-truncated',
          `Only the newest ${model.checks.length} checks are shown.`
        )
      );
    }
    return node;
  }

  private _checkNode(model: string, check: IHealthCheck): HTMLElement {
    const item = el('li', 'nbops-health-check');
    item.dataset.runId = check.run_id;
    item.dataset.status = check.status ?? '';
    item.dataset.version = String(check.version ?? '');
    const parts = [
      check.status ?? 'no verdict',
      when(check.time),
      check.version !== null ? `v${check.version}` : '',
      check.metrics.rows !== null ? `${check.metrics.rows} rows` : ''
    ].filter(Boolean);
    const status = el('span', 'nbops-health-check-line', parts.join(' · '));
    item.append(status);
    const report = button(
      'jp-mod-minimal nbops-health-report',
      'report',
      'Open this check’s report'
    );
    report.addEventListener('click', () => void this._open(model, check.run_id));
    item.append(report);
    if (check.drifted.length > 0) {
      const drifted = el(
        'div',
        'nbops-health-drifted',
        `Drifted: ${driftedNames(check).join(', ')}`
      );
      drifted.dataset.features = check.drifted.map(d => d.name).join(',');
      item.append(drifted);
    }
    if (check.reasons.length > 0) {
      const reasons = el('ul', 'nbops-health-reasons');
      for (const reason of check.reasons) {
        reasons.append(el('li', 'nbops-health-reason', reason));
      }
      item.append(reasons);
    }
    if (check.current) {
      item.append(el('div', 'nbops-health-current', `data: ${check.current}`));
    }
    return item;
  }

  /** The report in a new browser tab: opened at once (a user's click), filled when fetched. */
  private async _open(model: string, runId: string): Promise<void> {
    const tab = window.open('', '_blank');
    if (tab) {
      tab.opener = null;
    }
    const page = await this._model.report(model, runId);
    if (page === null) {
      tab?.close();
      return;
    }
    const url = URL.createObjectURL(new Blob([page], { type: 'text/html' }));
    if (tab) {
      tab.location.href = url;
    } else {
      window.open(url, '_blank', 'noopener');
    }
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

function triggersNode(triggers: IHealthTrigger[]): HTMLElement {
  const table = el('table', 'nbops-health-triggers');
  const caption = el('caption', undefined, 'Triggers ([tool.nbops.health])');
  table.append(caption);
  for (const t of triggers) {
    const row = el('tr', 'nbops-health-trigger');
    row.dataset.metric = t.metric;
    row.title = t.description;
    row.append(
      el('td', undefined, t.metric),
      el('td', undefined, t.direction),
      el('td', undefined, t.warn !== null ? `warn ${t.warn}` : ''),
      el('td', undefined, t.alert !== null ? `alert ${t.alert}` : '')
    );
    row.setAttribute('aria-label', triggerLine(t));
    table.append(row);
  }
  return table;
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: { [name: string]: string | number }
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, String(value));
  }
  return node;
}

function plotNode(metric: string, label: string, points: IPoint[]): HTMLElement {
  const figure = el('figure', 'nbops-health-plot');
  figure.dataset.metric = metric;
  figure.dataset.points = String(points.length);
  const values = points.map(p => p.value);
  const chart = svg('svg', {
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    viewBox: `0 0 ${PLOT_WIDTH} ${PLOT_HEIGHT}`,
    role: 'img',
    'aria-label': `${label} over time`
  });
  chart.append(
    svg('path', {
      d: linePath(values, PLOT_WIDTH, PLOT_HEIGHT),
      fill: 'none',
      stroke: 'var(--jp-brand-color1, #0969da)',
      'stroke-width': 1.5
    })
  );
  scale(values, PLOT_WIDTH, PLOT_HEIGHT).forEach(([x, y], i) => {
    const dot = svg('circle', {
      cx: x,
      cy: y,
      r: 2.5,
      fill: STATUS_COLOUR[points[i].status ?? ''] ?? 'var(--jp-ui-font-color2, #57606a)'
    });
    const tip = svg('title', {});
    tip.textContent = `${when(points[i].time)}: ${shortNumber(points[i].value)}`;
    dot.append(tip);
    chart.append(dot);
  });
  figure.append(chart);
  const last = values[values.length - 1];
  figure.append(el('figcaption', undefined, `${label}: ${shortNumber(last)} (latest)`));
  return figure;
}
