/**
 * Where the runs of the Run tab execute, as data (no DOM): the executor choices of the
 * server (`GET nbops/params`, `executors`: `local`, `dask`, plugins; one not installed is
 * disabled with its install line), the form's defaults (the project's `[tool.nbops.run]`),
 * what the form sends, and the short label jobs and history rows show ("local",
 * "dask", "dask @ tcp://host:8786").
 */
import type { IParamsResponse } from '../../tokens';

/** The server's `executors` (absent from an older nbops: only `local` then). */
export type Executors = IParamsResponse['executors'] | undefined;

export interface IExecutorChoice {
  name: string;
  /** Not installed on the server: shown, not selectable. */
  disabled: boolean;
  /** The install line when not installed. */
  install: string | null;
}

/** The executor a run uses when the project names none. */
export const LOCAL = 'local';
/** The one executor that takes a scheduler address. */
export const DASK = 'dask';

/** The choices of the select: `local` first, then the others by name. */
export function executorChoices(executors: Executors): IExecutorChoice[] {
  const available = executors?.available ?? [];
  const choices = available.map(e => ({
    name: e.name,
    disabled: !e.installed,
    install: e.installed ? null : e.install
  }));
  if (!choices.some(c => c.name === LOCAL)) {
    choices.push({ name: LOCAL, disabled: false, install: null });
  }
  return choices.sort((a, b) =>
    a.name === LOCAL ? -1 : b.name === LOCAL ? 1 : a.name.localeCompare(b.name)
  );
}

/** The form's starting executor and scheduler text: the project's, else local. */
export function executorDefaults(executors: Executors): { executor: string; scheduler: string } {
  return {
    executor: executors?.executor || LOCAL,
    scheduler: executors?.scheduler ?? ''
  };
}

/** The scheduler field is shown (and sent) only for dask. */
export function takesScheduler(executor: string | undefined): boolean {
  return executor === DASK;
}

/**
 * What the form sends for them (`POST nbops/runs/validate`): nothing to an older server
 * (`executor` undefined), else the executor and, for dask, the address typed (blank: null,
 * a local cluster).
 */
export function executorFields(
  executor: string | undefined,
  scheduler: string | undefined
): { executor?: string; scheduler?: string | null } {
  if (executor === undefined) {
    return {};
  }
  const address = (scheduler ?? '').trim();
  return {
    executor,
    scheduler: takesScheduler(executor) && address !== '' ? address : null
  };
}

/** The label of a job or a run: "local", "dask" (a local cluster), "dask @ ADDRESS". */
export function executorLabel(
  executor: string | null | undefined,
  scheduler: string | null | undefined
): string {
  const name = executor || LOCAL;
  return scheduler ? `${name} @ ${scheduler}` : name;
}
