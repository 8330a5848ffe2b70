/**
 * What the Run tab's views share: formatting (durations, numbers, moments, parameter values),
 * status badges, errors in plain words, and a list update that keeps focus.
 *
 * CSS classes made here:
 *   .nbops-run-badge.nbops-run-badge-<status>        a state or MLflow status
 *   .nbops-run-executor[data-executor]               where a job or run executes
 *   .nbops-run-error[data-error][data-status]        an error (data-error="server_missing"
 *                                                    without the server extension)
 */
import type { NbopsApiError } from '../../api';
import { extraMissing, type IMissing, type IServerExtras } from '../../extras';
import type { IParamsResponse, IRunRecord } from '../../tokens';
import { el } from '../dom';
import { errorNode, explain } from '../errors';
import { executorLabel } from './executor';

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return '';
  }
  if (seconds < 10) {
    return `${seconds.toFixed(1)} s`;
  }
  if (seconds < 60) {
    return `${Math.round(seconds)} s`;
  }
  const s = Math.round(seconds);
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  }
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export function formatNumber(value: number | null): string {
  if (value === null) {
    return 'NaN'; // the server sends NaN and infinities as null
  }
  if (!Number.isFinite(value)) {
    return String(value);
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  return String(Number(value.toPrecision(4)));
}

/**
 * A moment as `2026-12-06 18:20` in the browser's time zone (always with its date: a history
 * spans days); `title` is the full date and time with seconds and the time zone.
 */
export function formatWhen(iso: string | null): { text: string; title: string } {
  if (!iso) {
    return { text: '', title: '' };
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return { text: iso, title: iso };
  }
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const text = `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const title = date.toLocaleString([], {
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short'
  });
  return { text, title };
}

/** Why runs cannot start on this server (MLflow missing), or null when they can. */
export function trackingMissing(params: IParamsResponse | null): string | null {
  const missing = runMissing(params, null);
  return missing ? `${missing.message}: ${missing.install}` : null;
}

/**
 * Why runs cannot start on this server, with the install line, or null when they can: the
 * `run` extra missing (`GET nbops/version`'s extras: papermill, MLflow...), else MLflow
 * missing as the parameters' tracking status says (also from an older server).
 */
export function runMissing(
  params: IParamsResponse | null,
  extras: IServerExtras | null
): IMissing | null {
  const missing = extraMissing(extras, 'run', 'A run');
  if (missing) {
    return missing;
  }
  const tracking = params?.tracking;
  if (!tracking || tracking.available) {
    return null;
  }
  return {
    message: tracking.message || 'MLflow is not installed on the Jupyter server',
    install: tracking.hint || "pip install 'nbops[run]'"
  };
}

/** A parameter's value as the user would read it (texts unquoted). */
export function valueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function statusClass(status: string): string {
  return `nbops-run-badge nbops-run-badge-${status.toLowerCase().replace(/[^a-z]/g, '')}`;
}

/** Where a job or a run executes, as a small badge: "local", "dask", "dask @ tcp://…". */
export function executorBadge(
  executor: string | null | undefined,
  scheduler: string | null | undefined
): HTMLSpanElement {
  const label = executorLabel(executor, scheduler);
  const node = el('span', 'nbops-run-executor', label);
  node.dataset.executor = executor || 'local';
  node.title = scheduler
    ? `Executed by the Dask scheduler at ${scheduler}`
    : executor === 'dask'
      ? 'Executed on a Dask cluster started on this machine for these runs'
      : executor && executor !== 'local'
        ? `Executed by the ${executor} executor`
        : "Executed in kernels on the Jupyter server's machine";
  return node;
}

/** The MLflow UI's page of a run. */
export function mlflowRunUrl(base: string, record: IRunRecord): string {
  const root = base.trim().replace(/\/+$/, '');
  return (
    `${root}/#/experiments/${encodeURIComponent(record.experiment_id)}` +
    `/runs/${encodeURIComponent(record.run_id)}`
  );
}

/** An error in plain words: what went wrong and what to do. */
export function runErrorNode(error: NbopsApiError, what: string): HTMLElement {
  const words = explain(
    error,
    what,
    'run',
    'Your Jupyter user may not run notebooks here, or the session expired: reload the page ' +
      'and log in again.'
  );
  return errorNode(error, 'nbops-run-error', words);
}

/** Put `nodes` in `parent` unless they are already its children in that order (keeps focus). */
export function replaceIfChanged(parent: HTMLElement, nodes: HTMLElement[]): void {
  const current = Array.from(parent.children);
  if (current.length === nodes.length && current.every((node, i) => node === nodes[i])) {
    return;
  }
  parent.replaceChildren(...nodes);
}
