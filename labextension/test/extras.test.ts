/** What the panels disable when the server lacks an extra: Run and "Score now" without `run`. */
import { describe, expect, test } from 'vitest';

import { extraMissing, ServerExtras, type IServerExtras } from '../src/extras';
import { runMissing, trackingMissing } from '../src/panels/run/common';
import type { IParamsResponse, IVersionResponse } from '../src/tokens';

function extras(runMissingModules: string[] = []): IServerExtras {
  const one = (name: string, missing: string[] = []) => ({
    available: missing.length === 0,
    missing,
    install: `pip install 'nbops[${name}]'`
  });
  return {
    lab: one('lab'),
    run: one('run', runMissingModules),
    ui: one('ui', runMissingModules),
    widgets: one('widgets'),
    dask: one('dask')
  };
}

function params(trackingAvailable: boolean): IParamsResponse {
  return {
    path: 'n.ipynb',
    cell: 1,
    parameters: [],
    message: null,
    tracking: trackingAvailable
      ? { available: true, message: null, hint: null }
      : {
          available: false,
          message: 'MLflow is not installed: runs are tracked in MLflow',
          hint: "pip install 'nbops[run]'"
        }
  } as unknown as IParamsResponse;
}

describe('extraMissing', () => {
  test('null when the extra is installed or the server did not say', () => {
    expect(extraMissing(extras(), 'run', 'Scoring')).toBeNull();
    expect(extraMissing(null, 'run', 'Scoring')).toBeNull();
    expect(extraMissing(undefined, 'run', 'Scoring')).toBeNull();
  });

  test('names what is missing and the install line', () => {
    expect(extraMissing(extras(['papermill', 'mlflow']), 'run', 'Scoring')).toEqual({
      message:
        "Scoring needs nbops' run extra: papermill and MLflow are not installed on the Jupyter server",
      install: "pip install 'nbops[run]'"
    });
    expect(extraMissing(extras(['mlflow']), 'run', 'A run')?.message).toContain(
      'MLflow is not installed'
    );
  });
});

describe('runMissing (the Run tab)', () => {
  test('runs can start with the run extra and MLflow', () => {
    expect(runMissing(params(true), extras())).toBeNull();
    expect(runMissing(params(true), null)).toBeNull(); // extras not known yet
    expect(trackingMissing(params(true))).toBeNull();
  });

  test('the run extra missing disables Run with its install line', () => {
    const missing = runMissing(params(true), extras(['papermill']));
    expect(missing?.install).toBe("pip install 'nbops[run]'");
    expect(missing?.message).toContain('papermill is not installed');
  });

  test('MLflow missing from the tracking status (an older server) still disables Run', () => {
    expect(runMissing(params(false), null)).toEqual({
      message: 'MLflow is not installed: runs are tracked in MLflow',
      install: "pip install 'nbops[run]'"
    });
    expect(trackingMissing(params(false))).toBe(
      "MLflow is not installed: runs are tracked in MLflow: pip install 'nbops[run]'"
    );
  });
});

describe('ServerExtras', () => {
  test('asks the server once and shares the answer', async () => {
    let calls = 0;
    const loader = new ServerExtras(() => {
      calls++;
      return Promise.resolve({ version: '1.0.0', extras: extras(['mlflow']) });
    });
    expect(loader.current).toBeNull();
    const [a, b] = await Promise.all([loader.load(), loader.load()]);
    expect(a).toBe(b);
    expect(loader.current?.run.available).toBe(false);
    await loader.load();
    expect(calls).toBe(1);
  });

  test('asks again after a failure; an older server without extras is null', async () => {
    const answers: Array<() => Promise<IVersionResponse>> = [
      () => Promise.reject(new Error('unreachable')),
      () => Promise.resolve({ version: '0.1.0' } as IVersionResponse)
    ];
    let calls = 0;
    const loader = new ServerExtras(() => answers[calls++]());
    expect(await loader.load()).toBeNull();
    expect(await loader.load()).toBeNull();
    expect(calls).toBe(2);
    expect(loader.current).toBeNull();
  });
});
