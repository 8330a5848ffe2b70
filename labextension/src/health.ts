/**
 * The Health tab's model: the health checks (`nbops monitor`) of the current notebook's project
 * (the server root when no notebook is open), what the tab shows of them, and the reports.
 *
 * The pure helpers turn the list into what the view draws: the latest check of a model, each
 * metric's values over time (oldest first) and their line as an SVG path, the triggers as
 * text. A report is fetched with the server's credentials (as the Models tab downloads
 * artifacts) and opened from a blob URL with a Content-Security-Policy that allows no script:
 * it is user data. The tab reads from and acts through one `HealthModel`.
 */
import * as api from './api';
import { toApiError, type NbopsApiError } from './api';
import { ProjectListModel, type IProjectListState } from './projectlist';
import type { NotebookStore } from './store';
import type {
  IHealthCheck,
  IHealthList,
  IHealthMetrics,
  IHealthModel,
  IHealthTrigger
} from './tokens';

export type HealthMetric = keyof IHealthMetrics;

/** The metrics plotted over time, in this order, with their labels. */
export const PLOTTED: Array<{ metric: HealthMetric; label: string }> = [
  { metric: 'max_psi', label: 'max PSI' },
  { metric: 'prediction_psi', label: 'prediction PSI' },
  { metric: 'accuracy', label: 'accuracy' },
  { metric: 'f1', label: 'F1' },
  { metric: 'rmse', label: 'RMSE' },
  { metric: 'mae', label: 'MAE' },
  { metric: 'invalid_rows', label: 'invalid rows' }
];

export interface IPoint {
  /** ISO time of the check ('' when unknown). */
  time: string;
  value: number;
  status: IHealthCheck['status'];
}

export interface IHealthState extends IProjectListState<IHealthList> {
  /** Why the last report could not be opened. */
  reportError: NbopsApiError | null;
}

/** The newest check of `model` (null: none yet). */
export function latest(model: IHealthModel): IHealthCheck | null {
  return model.checks[0] ?? null;
}

/** The values of `metric` over time, oldest first (checks without it are left out). */
export function series(model: IHealthModel, metric: HealthMetric): IPoint[] {
  const points: IPoint[] = [];
  for (const check of model.checks) {
    const value = check.metrics[metric];
    if (value !== null && Number.isFinite(value)) {
      points.unshift({ time: check.time ?? '', value, status: check.status });
    }
  }
  return points;
}

/** The metrics that have at least one value, with their series. */
export function plots(
  model: IHealthModel
): Array<{ metric: HealthMetric; label: string; points: IPoint[] }> {
  return PLOTTED.map(p => ({ ...p, points: series(model, p.metric) })).filter(
    p => p.points.length > 0
  );
}

/**
 * Where each value goes in a `width` x `height` box with `pad` around it: x evenly spaced
 * oldest to newest (one value: the middle), y from the smallest value (bottom) to the largest
 * (top; all equal: the middle).
 */
export function scale(
  values: number[],
  width: number,
  height: number,
  pad = 4
): Array<[number, number]> {
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low;
  const step = values.length > 1 ? (width - 2 * pad) / (values.length - 1) : 0;
  return values.map((v, i) => {
    const x = values.length > 1 ? pad + i * step : width / 2;
    const y = span > 0 ? height - pad - ((v - low) / span) * (height - 2 * pad) : height / 2;
    return [Number(x.toFixed(1)), Number(y.toFixed(1))];
  });
}

/** The SVG path (`M x y L x y ...`) through the values. */
export function linePath(values: number[], width: number, height: number): string {
  return scale(values, width, height)
    .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x} ${y}`)
    .join(' ');
}

/** `0.123` to four significant digits; '–' for null. */
export function shortNumber(value: number | null): string {
  return value === null ? '–' : String(Number(value.toPrecision(4)));
}

/** `psi: above warn 0.1, alert 0.2` */
export function triggerLine(t: IHealthTrigger): string {
  const levels = [
    t.warn !== null ? `warn ${t.warn}` : '',
    t.alert !== null ? `alert ${t.alert}` : ''
  ].filter(Boolean);
  return `${t.metric}: ${t.direction} ${levels.join(', ')}`;
}

/** `alcohol (PSI 3.1)` for each drifted feature. */
export function driftedNames(check: IHealthCheck): string[] {
  return check.drifted.map(d =>
    d.psi === null ? d.name : `${d.name} (PSI ${shortNumber(d.psi)})`
  );
}

/** `2026-12-07 09:12` (UTC) of an ISO time; '' when unknown. */
export function when(time: string | null): string {
  return time ? time.slice(0, 16).replace('T', ' ') : '';
}

/** The report page's own policy: no script, no request; its inline styles and SVG only. */
export const REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** `html` with a Content-Security-Policy `<meta>` first in its head (user data: no script). */
export function withPolicy(html: string): string {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${REPORT_POLICY}">`;
  const head = /<head[^>]*>/i.exec(html);
  if (head) {
    const at = head.index + head[0].length;
    return html.slice(0, at) + meta + html.slice(at);
  }
  return `<!DOCTYPE html><html><head>${meta}</head><body>${html}</body></html>`;
}

export class HealthModel extends ProjectListModel<IHealthList, IHealthState> {
  /** @param store - the notebooks: the tab shows the checks of the current one's project. */
  constructor(store: NotebookStore) {
    super(store, path => api.listHealth(path), {
      path: null,
      list: null,
      loading: false,
      error: null,
      reportError: null
    });
  }

  /** A check's HTML report with the no-script policy (null: it could not be read). */
  async report(model: string, runId: string): Promise<string | null> {
    try {
      const blob = await api.fetchHealthReport(model, runId, this.state.path);
      const page = withPolicy(await blob.text());
      this._set({ reportError: null });
      return page;
    } catch (reason) {
      this._set({ reportError: toApiError(reason) });
      return null;
    }
  }
}
