/** The Run tab's model: starting runs, following them until they end, the history. */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';

import { RunsModel } from '../src/runs';
import type { IJob, IRunsResponse } from '../src/tokens';
import { NotebookStore } from '../src/store';
import { TrackerStandIn } from './lab';
import { error, FakeServer, type IRequestSeen } from './server';

const PATH = 'work/n.ipynb';
const POLL_MS = 1000;

function job(id: string, state: IJob['state'], extra: Partial<IJob> = {}): IJob {
  return {
    id,
    path: PATH,
    kind: 'run',
    state,
    total: 1,
    done: 0,
    failed: 0,
    running: state === 'running' ? 1 : 0,
    started: '2026-01-01T10:00:00+00:00',
    ended: null,
    parent_run_id: null,
    runs: [],
    error: null,
    executor: 'local',
    scheduler: null,
    ...extra
  };
}

function history(jobs: IJob[]): IRunsResponse {
  return {
    jobs,
    runs: [],
    tracking: {
      uri: 'sqlite:///.nbops/mlflow.db',
      ui_command: 'nbops ui',
      available: true,
      message: null,
      hint: null
    }
  };
}

let store: NotebookStore;
let model: RunsModel;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  store = new NotebookStore(new TrackerStandIn().tracker);
  model = new RunsModel(store, () => POLL_MS);
});

afterEach(() => {
  model.dispose();
  store.dispose();
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('RunsModel', () => {
  test('follows a started job until it ends, then shows it until the history has its runs', async () => {
    const polls = [
      job('j1', 'running', { total: 2, done: 1 }),
      job('j1', 'finished', { total: 2, done: 2, ended: '2026-01-01T10:01:00+00:00' })
    ];
    const server = new FakeServer(r => {
      if (r.method === 'POST' && r.endpoint === 'runs') {
        return { status: 202, json: { job: job('j1', 'running', { kind: 'sweep', total: 2 }) } };
      }
      if (r.endpoint === 'runs/jobs/j1') {
        return { json: polls.shift() };
      }
      if (r.endpoint === 'runs') {
        return { json: history([]) };
      }
    });
    const request = { path: PATH, grid: { alpha: ['0.1', '0.2'] } };
    const started = await model.start(request);
    expect(started?.state).toBe('running');
    expect(model.running(PATH).map(j => j.id)).toEqual(['j1']);
    expect(model.request('j1')).toEqual(request);

    await vi.advanceTimersByTimeAsync(POLL_MS);
    // a run of the sweep ended: the history is asked for its record
    expect(model.state(PATH).jobs[0].done).toBe(1);
    expect(server.calls('runs', 'GET')).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(model.state(PATH).jobs[0].state).toBe('finished');
    expect(model.running(PATH)).toEqual([]);
    await vi.advanceTimersByTimeAsync(0);
    expect(model.settling('j1')).toBe(false);
    expect(server.calls('runs', 'GET')).toHaveLength(2);

    // no more polling once it ended
    await vi.advanceTimersByTimeAsync(10 * POLL_MS);
    expect(server.calls('runs/jobs/j1')).toHaveLength(2);
  });

  test('a refused start keeps the reason and follows nothing', async () => {
    const server = new FakeServer(() => error(400, 'UsageError', 'alpha: not a number: "x"'));
    expect(await model.start({ path: PATH, parameters: { alpha: 'x' } })).toBeNull();
    const state = model.state(PATH);
    expect(state.submitting).toBe(false);
    expect(state.submitError?.message).toBe('alpha: not a number: "x"');
    expect(state.jobs).toEqual([]);
    await vi.advanceTimersByTimeAsync(5 * POLL_MS);
    expect(server.seen).toHaveLength(1);

    model.clearSubmitError(PATH);
    expect(model.state(PATH).submitError).toBeNull();
  });

  test('a job the server forgot (404) is shown as lost and the history asked again', async () => {
    const server = new FakeServer(r =>
      r.endpoint === 'runs' ? { json: history([job('j1', 'running')]) } : undefined
    );
    await model.loadHistory(PATH);
    expect(model.running(PATH)).toHaveLength(1);

    server.answer(r =>
      r.endpoint === 'runs/jobs/j1'
        ? error(404, 'NotFoundError', 'no such job: j1')
        : { json: history([]) }
    );
    await vi.advanceTimersByTimeAsync(POLL_MS);
    const [lost] = model.state(PATH).jobs;
    expect(lost.state).not.toBe('running');
    expect(lost.error).toContain('no longer knows this job');
    expect(server.calls('runs', 'GET')).toHaveLength(2);
  });

  test('polling backs off while the server cannot be reached: at most doubling, up to 10 s', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1 - 1e-9); // the top of every jitter range
    const server = new FakeServer(r => {
      if (r.endpoint === 'runs') {
        return { json: history([job('j1', 'running')]) };
      }
      return { networkError: 'Failed to fetch' };
    });
    await model.loadHistory(PATH);
    const pollsAt = async (ms: number) => {
      await vi.advanceTimersByTimeAsync(ms);
      return server.calls('runs/jobs/j1').length;
    };
    // 1 s, then 2, 4, 8 and 10 s apart (10 s is the cap)
    expect(await pollsAt(999)).toBe(0);
    expect(await pollsAt(1)).toBe(1);
    expect(await pollsAt(1999)).toBe(1);
    expect(await pollsAt(1)).toBe(2);
    expect(await pollsAt(4000)).toBe(3);
    expect(await pollsAt(8000)).toBe(4);
    expect(await pollsAt(9999)).toBe(4);
    expect(await pollsAt(1)).toBe(5);
    expect(await pollsAt(10000)).toBe(6);
    expect(model.state(PATH).jobs[0].state).toBe('running');
  });

  test('history asked for while a request is under way makes exactly one more', async () => {
    let release: () => void = () => undefined;
    const server = new FakeServer(
      () =>
        new Promise(resolve => {
          release = () => resolve({ json: history([]) });
        })
    );
    const first = model.loadHistory(PATH);
    await vi.advanceTimersByTimeAsync(0);
    void model.loadHistory(PATH);
    void model.loadHistory(PATH);
    expect(model.state(PATH).historyLoading).toBe(true);
    release();
    await vi.advanceTimersByTimeAsync(0);
    release();
    await first;
    expect(server.calls('runs')).toHaveLength(2);
    expect(model.state(PATH).historyLoading).toBe(false);
  });

  test("the server's list wins; a job only this page knows stays; newest first", async () => {
    const older = job('old', 'finished', { started: '2026-01-01T09:00:00+00:00' });
    const server = new FakeServer((r: IRequestSeen) => {
      if (r.method === 'POST') {
        return {
          status: 202,
          json: { job: job('new', 'running', { started: '2026-01-01T11:00:00+00:00' }) }
        };
      }
      if (r.endpoint === 'runs') {
        return { json: history([older]) };
      }
      return { json: job('new', 'running', { started: '2026-01-01T11:00:00+00:00' }) };
    });
    await model.start({ path: PATH });
    await model.loadHistory(PATH);
    expect(model.state(PATH).jobs.map(j => j.id)).toEqual(['new', 'old']);
    expect(model.state(PATH).history?.jobs).toEqual([older]);
    expect(server.calls('runs', 'GET')).toHaveLength(1);
  });

  test('cancel answers the error instead of throwing, and shows the stopped job', async () => {
    new FakeServer(r =>
      r.method === 'DELETE' ? error(403, 'Forbidden', 'not allowed to cancel runs') : undefined
    );
    const failure = await model.cancel(job('j1', 'running'));
    expect(failure?.status).toBe(403);

    new FakeServer(r =>
      r.method === 'DELETE' ? { status: 202, json: job('j1', 'cancelled') } : undefined
    );
    expect(await model.cancel(job('j1', 'running'))).toBeNull();
    expect(model.state(PATH).jobs.map(j => j.state)).toEqual(['cancelled']);
  });
});
