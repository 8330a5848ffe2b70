/** The Hackathon tab's model: the exercise of a notebook, scoring jobs and their polling. */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';

import { HackathonModel } from '../src/hackathon';
import type { IHackathonInfo, IScoreJob, IScorecard } from '../src/tokens';
import { NotebookStore } from '../src/store';
import { TrackerStandIn } from './lab';
import { error, FakeServer } from './server';

const POLL_MS = 500;
const A = 'ex/a.ipynb';
const B = 'ex/b.ipynb';

function card(team: string, total: number): IScorecard {
  return {
    team,
    source: { kind: 'folder', ref: null, commit: null },
    submitted_at: null,
    total,
    max_total: 100,
    required_passed: true,
    components: [],
    errors: [],
    suggestion: null,
    scored_at: '2026-01-01T10:00:00+00:00'
  };
}

function job(id: string, state: IScoreJob['state'], extra: Partial<IScoreJob> = {}): IScoreJob {
  return {
    id,
    path: A,
    exercise: 'ex',
    team: 'red',
    state,
    started: '2026-01-01T10:00:00+00:00',
    ended: null,
    limit_s: 720,
    card: null,
    error: null,
    ...extra
  };
}

function info(extra: Partial<IHackathonInfo> = {}): IHackathonInfo {
  return {
    exercise: {
      name: 'Churn',
      deadline: null,
      root: 'ex',
      teams: ['red', 'blue'],
      notebooks: ['a.ipynb'],
      timeout: 600
    },
    team: 'red',
    branch: 'team/red',
    card: card('red', 40),
    job: null,
    ...extra
  };
}

let store: NotebookStore;
let model: HackathonModel;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  store = new NotebookStore(new TrackerStandIn().tracker);
  model = new HackathonModel(store, () => POLL_MS);
});

afterEach(() => {
  model.dispose();
  store.dispose();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('HackathonModel', () => {
  test('a notebook in no exercise has no job and no card', async () => {
    new FakeServer(() => ({
      json: { exercise: null, team: null, branch: null, card: null, job: null }
    }));
    await model.load('elsewhere.ipynb');
    expect(model.known('elsewhere.ipynb')).toBe(true);
    expect(model.exercise('elsewhere.ipynb')).toBeNull();
    expect(model.job('elsewhere.ipynb')).toBeNull();
    expect(model.card('elsewhere.ipynb')).toBeNull();
  });

  test('a broken hackathon.toml is an error of the notebook, not a throw', async () => {
    new FakeServer(() => error(400, 'ConfigError', 'hackathon.toml: [teams.red] has no folder'));
    await model.load(A);
    expect(model.state(A).error?.message).toContain('hackathon.toml');
    expect(model.state(A).loading).toBe(false);
  });

  test('a scoring is followed until it has finished; then its card shows and the saved one is read', async () => {
    const polls = [job('s1', 'running'), job('s1', 'finished', { card: card('red', 75) })];
    const server = new FakeServer(r => {
      if (r.endpoint === 'hackathon') {
        return { json: info() };
      }
      if (r.endpoint === 'hackathon/score') {
        return { status: 202, json: { job: job('s1', 'running') } };
      }
      if (r.endpoint === 'hackathon/jobs/s1') {
        return { json: polls.shift() };
      }
    });
    await model.load(A);
    expect(model.card(A)?.total).toBe(40);

    const started = await model.score(A);
    expect(started?.id).toBe('s1');
    expect(server.calls('hackathon/score')[0].body).toEqual({ path: A });
    expect(model.running(A)).toBe(true);

    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(model.running(A)).toBe(true);
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(model.running(A)).toBe(false);
    expect(model.card(A)?.total).toBe(75);
    // the saved card is read again, as a reload would
    expect(server.calls('hackathon')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(10 * POLL_MS);
    expect(server.calls('hackathon/jobs/s1')).toHaveLength(2);
  });

  test('every notebook of the exercise sees its job', async () => {
    new FakeServer(r => {
      if (r.endpoint === 'hackathon') {
        return { json: info() };
      }
      if (r.endpoint === 'hackathon/score') {
        return { status: 202, json: { job: job('s1', 'running', { team: 'blue' }) } };
      }
      return { json: job('s1', 'running') };
    });
    await model.load(A);
    await model.load(B);
    const changed: string[] = [];
    model.changed.connect((_, path) => changed.push(path));
    await model.score(A, 'blue');
    expect(model.job(B)?.id).toBe('s1');
    expect(changed).toContain(B);
  });

  test('an older job never replaces a newer one', async () => {
    const newer = job('s2', 'running', { started: '2026-01-01T11:00:00+00:00' });
    const older = job('s1', 'finished', { started: '2026-01-01T09:00:00+00:00' });
    new FakeServer(r => {
      if (r.endpoint === 'hackathon') {
        return { json: info({ job: older }) };
      }
      if (r.endpoint === 'hackathon/score') {
        return { status: 202, json: { job: newer } };
      }
      return { json: newer };
    });
    await model.load(A);
    await model.score(A);
    await model.load(A);
    expect(model.job(A)?.id).toBe('s2');
  });

  test('409 (being scored): the reason is kept and the running job followed', async () => {
    const running = job('s9', 'running');
    const server = new FakeServer(r => {
      if (r.endpoint === 'hackathon/score') {
        return error(409, 'ConflictError', 'this checkout is being scored');
      }
      if (r.endpoint === 'hackathon') {
        return { json: info({ job: running }) };
      }
      return { json: running };
    });
    expect(await model.score(A)).toBeNull();
    expect(model.state(A).startError?.status).toBe(409);
    await vi.advanceTimersByTimeAsync(0);
    expect(server.calls('hackathon')).toHaveLength(1);
    expect(model.job(A)?.id).toBe('s9');
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(server.calls('hackathon/jobs/s9')).toHaveLength(1);
  });

  test('a job the server forgot (404) is shown as lost', async () => {
    new FakeServer(r => {
      if (r.endpoint === 'hackathon') {
        return { json: info({ job: job('s1', 'running') }) };
      }
      return error(404, 'NotFoundError', 'no such job');
    });
    await model.load(A);
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(model.job(A)?.state).not.toBe('running');
    expect(model.job(A)?.error).toContain('no longer knows this scoring');
  });
});
