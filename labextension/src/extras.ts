/**
 * nbops' extras on the Jupyter server: which are installed (`GET nbops/version`'s `extras`),
 * and what a panel says when one it needs is missing. The Run tab and the Hackathon tab
 * disable Run and "Score now" without the `run` extra, with its install line.
 */
import * as api from './api';
import type { IVersionResponse } from './tokens';

/** `GET nbops/version`'s `extras`: each extra's availability and install line. */
export type IServerExtras = IVersionResponse['extras'];
export type ExtraName = keyof IServerExtras;

/** What cannot be done and the command that fixes it. */
export interface IMissing {
  message: string;
  install: string;
}

/** How the packages are called (the server lists import names). */
const LABELS: { [name: string]: string } = {
  mlflow: 'MLflow',
  jupyterlab: 'JupyterLab',
  flask: 'Flask (the full mlflow distribution)'
};

function listed(modules: string[]): string {
  const names = modules.map(m => LABELS[m] ?? m);
  if (names.length <= 1) {
    return names[0] ?? 'a package';
  }
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * Why `what` ("A run", "Scoring") cannot happen on this server because `extra` is not
 * installed there, with its install line; null when it is, or when the server did not say
 * (an older server, or the version not known yet: the server still refuses with a 503).
 */
export function extraMissing(
  extras: IServerExtras | null | undefined,
  extra: ExtraName,
  what: string
): IMissing | null {
  const status = extras?.[extra];
  if (!status || status.available) {
    return null;
  }
  const verb = status.missing.length === 1 ? 'is' : 'are';
  return {
    message:
      `${what} needs nbops' ${extra} extra: ${listed(status.missing)} ${verb} not ` +
      'installed on the Jupyter server',
    install: status.install
  };
}

/**
 * The server's extras, asked for once and shared by the panels (`GET nbops/version`). A failed
 * request is asked again on the next `load()`.
 */
export class ServerExtras {
  /** The extras once known, else null. */
  get current(): IServerExtras | null {
    return this._current;
  }

  /** Ask the server (once; again after a failure); resolves to the extras or null. */
  load(): Promise<IServerExtras | null> {
    if (!this._pending) {
      this._pending = this._get()
        .then(version => {
          this._current = version.extras ?? null;
          return this._current;
        })
        .catch(() => {
          this._pending = null;
          return null;
        });
    }
    return this._pending;
  }

  constructor(get: () => Promise<IVersionResponse> = api.getVersion) {
    this._get = get;
  }

  private _get: () => Promise<IVersionResponse>;
  private _current: IServerExtras | null = null;
  private _pending: Promise<IServerExtras | null> | null = null;
}

/** The one instance the panels share. */
export const serverExtras = new ServerExtras();
