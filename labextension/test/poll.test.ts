/** The job poller: a job is asked for until it ends, once per job, backing off on failures. */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';

import * as api from '../src/api';
import { JobPoller, MAX_POLL_DELAY } from '../src/poll';
import type { IJob } from '../src/tokens';
import { error, FakeServer } from './server';

const POLL_MS = 1000;

function job(id: string, state: IJob['state'], extra: Partial<IJob> = {}): IJob {
  return {
    id,
    path: 'n.ipynb',
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

let interval: number;
let seen: Array<[string, string, string]>;
let ended: string[];
let lost: string[];
let poller: JobPoller<IJob>;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  interval = POLL_MS;
  seen = [];
  ended = [];
  lost = [];
  poller = new JobPoller<IJob>({
    fetch: id => api.getJob(id),
    interval: () => interval,
    onJob: (j, previous) => seen.push([j.id, previous.state, j.state]),
    onEnd: j => ended.push(j.id),
    onLost: id => lost.push(id)
  });
});

afterEach(() => {
  poller.dispose();
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

/** A server that answers each job's polls in turn, the last answer again and again. */
function serve(answers: Record<string, IJob[]>): FakeServer {
  return new FakeServer(r => {
    const id = r.endpoint.replace('runs/jobs/', '');
    const list = answers[id];
    if (!list) {
      return undefined;
    }
    return { json: list.length > 1 ? list.shift() : list[0] };
  });
}

describe('JobPoller', () => {
  test('asks every interval until the job ends, then stops', async () => {
    const server = serve({
      j1: [job('j1', 'running', { done: 1 }), job('j1', 'finished')]
    });
    poller.track(job('j1', 'queued'));
    expect(poller.polling('j1')).toBe(true);
    await vi.advanceTimersByTimeAsync(POLL_MS - 1);
    expect(server.seen).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toEqual([['j1', 'queued', 'running']]);
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(seen).toEqual([
      ['j1', 'queued', 'running'],
      ['j1', 'running', 'finished']
    ]);
    expect(ended).toEqual(['j1']);
    expect(poller.polling('j1')).toBe(false);
    await vi.advanceTimersByTimeAsync(20 * POLL_MS);
    expect(server.seen).toHaveLength(2);
  });

  test('once per job however often asked; an ended job is not followed', async () => {
    const server = serve({ j1: [job('j1', 'running')] });
    poller.track(job('j1', 'running'));
    poller.track(job('j1', 'running'));
    poller.track(job('j2', 'finished'));
    expect(poller.polling('j2')).toBe(false);
    await vi.advanceTimersByTimeAsync(3 * POLL_MS);
    expect(server.calls('runs/jobs/j1')).toHaveLength(3);
    expect(server.seen).toHaveLength(3);
  });

  test('reads the interval before every request, within 250 ms .. 10 s', async () => {
    const server = serve({ j1: [job('j1', 'running')] });
    interval = 10; // below the floor
    poller.track(job('j1', 'running'));
    await vi.advanceTimersByTimeAsync(249);
    expect(server.seen).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.seen).toHaveLength(1);
    interval = 5000; // the setting changed: the next wait is the new interval
    await vi.advanceTimersByTimeAsync(250);
    expect(server.seen).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(4999);
    expect(server.seen).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.seen).toHaveLength(3);
  });

  test('backs off while the server cannot be reached: at most doubling, up to 10 s', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1 - 1e-9); // the top of every jitter range
    const server = new FakeServer(() => ({ networkError: 'Failed to fetch' }));
    poller.track(job('j1', 'running'));
    const pollsAt = async (ms: number) => {
      await vi.advanceTimersByTimeAsync(ms);
      return server.seen.length;
    };
    // 1 s, then 2, 4, 8 and 10 s apart (10 s is the cap)
    expect(await pollsAt(999)).toBe(0);
    expect(await pollsAt(1)).toBe(1);
    expect(await pollsAt(1999)).toBe(1);
    expect(await pollsAt(1)).toBe(2);
    expect(await pollsAt(4000)).toBe(3);
    expect(await pollsAt(8000)).toBe(4);
    expect(await pollsAt(MAX_POLL_DELAY - 1)).toBe(4);
    expect(await pollsAt(1)).toBe(5);
    expect(await pollsAt(MAX_POLL_DELAY)).toBe(6);

    // the server is back: the next answer brings the interval back
    server.answer(() => ({ json: job('j1', 'running') }));
    expect(await pollsAt(MAX_POLL_DELAY)).toBe(7);
    expect(await pollsAt(POLL_MS)).toBe(8);
    expect(seen).toHaveLength(2);
  });

  test('without jitter a failure waits no less than the interval', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const server = new FakeServer(() => ({ networkError: 'Failed to fetch' }));
    poller.track(job('j1', 'running'));
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(server.seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(POLL_MS - 1);
    expect(server.seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.seen).toHaveLength(2);
  });

  test('a job the server forgot (404) is lost and no longer asked for', async () => {
    const server = new FakeServer(() => error(404, 'NotFoundError', 'no such job: j1'));
    poller.track(job('j1', 'running'));
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(lost).toEqual(['j1']);
    expect(seen).toEqual([]);
    expect(poller.polling('j1')).toBe(false);
    await vi.advanceTimersByTimeAsync(20 * POLL_MS);
    expect(server.seen).toHaveLength(1);
  });

  test('dispose stops every poll, and an answer in flight is dropped', async () => {
    let release: () => void = () => undefined;
    const server = new FakeServer(
      () =>
        new Promise(resolve => {
          release = () => resolve({ json: job('j1', 'finished') });
        })
    );
    poller.track(job('j1', 'running'));
    poller.track(job('j2', 'running'));
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(server.seen).toHaveLength(2);
    poller.dispose();
    release();
    await vi.advanceTimersByTimeAsync(20 * POLL_MS);
    expect(server.seen).toHaveLength(2);
    expect(seen).toEqual([]);
    expect(ended).toEqual([]);
    poller.track(job('j3', 'running'));
    expect(poller.polling('j3')).toBe(false);
  });
});
