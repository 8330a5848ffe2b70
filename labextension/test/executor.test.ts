/** Where the Run tab's runs execute (`src/panels/run/executor.ts`): the choices, the
 * defaults, what the form sends, the labels of jobs and runs. */
import { describe, expect, test } from 'vitest';

import { executorBadge } from '../src/panels/run/common';
import {
  executorChoices,
  executorDefaults,
  executorFields,
  executorLabel,
  takesScheduler,
  type Executors
} from '../src/panels/run/executor';
import { toRunForm } from '../src/runform';

function executors(daskInstalled: boolean, executor = 'local', scheduler: string | null = null) {
  return {
    available: [
      {
        name: 'dask',
        installed: daskInstalled,
        install: daskInstalled ? null : "pip install 'nbops[dask]'"
      },
      { name: 'local', installed: true, install: null },
      { name: 'echo', installed: true, install: null }
    ],
    executor,
    scheduler,
    message: null
  } satisfies NonNullable<Executors>;
}

describe('the executor select', () => {
  test('local first; dask disabled with its install line when not installed', () => {
    expect(executorChoices(executors(false))).toEqual([
      { name: 'local', disabled: false, install: null },
      { name: 'dask', disabled: true, install: "pip install 'nbops[dask]'" },
      { name: 'echo', disabled: false, install: null }
    ]);
    expect(executorChoices(executors(true))[1]).toEqual({
      name: 'dask',
      disabled: false,
      install: null
    });
  });

  test('an older server lists no executors: local only, nothing sent', () => {
    expect(executorChoices(undefined)).toEqual([{ name: 'local', disabled: false, install: null }]);
    expect(executorDefaults(undefined)).toEqual({ executor: 'local', scheduler: '' });
    expect(executorFields(undefined, 'tcp://h:8786')).toEqual({});
  });

  test("the defaults are the project's [tool.nbops.run]", () => {
    expect(executorDefaults(executors(true, 'dask', 'tcp://h:8786'))).toEqual({
      executor: 'dask',
      scheduler: 'tcp://h:8786'
    });
    expect(executorDefaults(executors(true))).toEqual({ executor: 'local', scheduler: '' });
  });
});

describe('what the form sends', () => {
  test('the scheduler only with dask; blank is a local cluster (null)', () => {
    expect(takesScheduler('dask')).toBe(true);
    expect(takesScheduler('local')).toBe(false);
    expect(executorFields('dask', ' tcp://h:8786 ')).toEqual({
      executor: 'dask',
      scheduler: 'tcp://h:8786'
    });
    expect(executorFields('dask', '  ')).toEqual({ executor: 'dask', scheduler: null });
    // a scheduler typed before switching back to local is not sent
    expect(executorFields('local', 'tcp://h:8786')).toEqual({ executor: 'local', scheduler: null });
  });

  test('with the rest of the form, as POST nbops/runs/validate takes it', () => {
    const form = {
      mode: 'sweep' as const,
      values: new Map(),
      parallel: '2',
      kernel: '',
      timeout: ''
    };
    expect({ ...toRunForm('n.ipynb', form), ...executorFields('dask', '') }).toEqual({
      path: 'n.ipynb',
      mode: 'sweep',
      fields: {},
      parallel: '2',
      kernel: null,
      timeout: null,
      executor: 'dask',
      scheduler: null
    });
  });
});

describe('jobs and runs say where they execute', () => {
  test('labels', () => {
    expect(executorLabel('local', null)).toBe('local');
    expect(executorLabel('dask', null)).toBe('dask');
    expect(executorLabel('dask', 'tcp://10.0.0.5:8786')).toBe('dask @ tcp://10.0.0.5:8786');
    expect(executorLabel(undefined, undefined)).toBe('local'); // a run without the tag
  });

  test('the badge', () => {
    const badge = executorBadge('dask', 'tcp://10.0.0.5:8786');
    expect(badge.className).toBe('nbops-run-executor');
    expect(badge.dataset.executor).toBe('dask');
    expect(badge.textContent).toBe('dask @ tcp://10.0.0.5:8786');
    expect(executorBadge('dask', null).title).toContain('started on this machine');
    expect(executorBadge(undefined, null).dataset.executor).toBe('local');
  });
});
