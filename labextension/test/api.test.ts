/** The API client: how answers of the server become results and errors. */
import { afterEach, describe, expect, test, vi } from 'vitest';

import * as api from '../src/api';
import { NbopsApiError, NbopsConflictError, NbopsGateError } from '../src/api';
import { error, FakeServer } from './server';

afterEach(() => {
  vi.unstubAllGlobals();
});

async function failure(promise: Promise<unknown>): Promise<NbopsApiError> {
  try {
    await promise;
  } catch (reason) {
    expect(reason).toBeInstanceOf(NbopsApiError);
    return reason as NbopsApiError;
  }
  throw new Error('the call succeeded');
}

describe('requestAPI', () => {
  test('parses a JSON answer and sends the query unbusted', async () => {
    const server = new FakeServer(() => ({ json: { jobs: [], runs: [], tracking: {} } }));
    const answer = await api.listRuns('a b/n.ipynb', 7);
    expect(answer.jobs).toEqual([]);
    const [seen] = server.seen;
    expect(seen.endpoint).toBe('runs');
    // only the two arguments: the run endpoints refuse a cache-busting `?<timestamp>`
    expect([...seen.query.keys()].sort()).toEqual(['limit', 'path']);
    expect(seen.query.get('path')).toBe('a b/n.ipynb');
  });

  test("an nbops error body becomes an NbopsApiError with the server's words", async () => {
    new FakeServer(() =>
      error(400, 'UsageError', 'unknown parameter "alpha"', { hint: 'see nbops params' })
    );
    const e = await failure(api.getParams('n.ipynb'));
    expect([e.status, e.error, e.message, e.hint]).toEqual([
      400,
      'UsageError',
      'unknown parameter "alpha"',
      'see nbops params'
    ]);
  });

  test("Jupyter's HTML 404 means the server extension is missing", async () => {
    new FakeServer(() => ({ status: 404, text: '<html>404</html>' }));
    const e = await failure(api.getVersion());
    expect(e.error).toBe('server_missing');
    expect(e.message).toBe(api.SERVER_MISSING_MESSAGE);
  });

  test('a 200 that is not JSON and a network failure are errors too', async () => {
    new FakeServer(() => ({ status: 200, text: 'oops' }));
    expect((await failure(api.getVersion())).error).toBe('bad_response');
    new FakeServer(() => ({ networkError: 'connection refused' }));
    const e = await failure(api.getVersion());
    expect(e.error).toBe('network');
    expect(e.message).toContain('connection refused');
  });

  test('a modularize conflict carries the plan, a blocked submit the checklist', async () => {
    const plan = { notebook: 'n.ipynb', files: [] };
    new FakeServer(() => error(409, 'ConflictError', 'would overwrite', { plan }));
    const conflict = await failure(api.modularize({ path: 'n.ipynb', dry_run: false }));
    expect(conflict).toBeInstanceOf(NbopsConflictError);
    expect((conflict as NbopsConflictError).plan).toEqual(plan);

    const gate = { notebook: 'n.ipynb', passed: false, checks: [] };
    new FakeServer(() => error(422, 'GateFailed', 'the gate failed', { gate }));
    const blocked = await failure(api.submit({ path: 'n.ipynb' }));
    expect(blocked).toBeInstanceOf(NbopsGateError);
    expect((blocked as NbopsGateError).gate).toEqual(gate);
  });

  test('startRun answers the job inside the 202 body', async () => {
    const server = new FakeServer(() => ({ status: 202, json: { job: { id: 'j1' } } }));
    const job = await api.startRun({ path: 'n.ipynb', parameters: { alpha: '0.5' } });
    expect(job.id).toBe('j1');
    expect(server.calls('runs', 'POST')[0].body).toEqual({
      path: 'n.ipynb',
      parameters: { alpha: '0.5' }
    });
  });

  test('validateRun posts the form and answers the check; an older nbops is a missing endpoint', async () => {
    const check = {
      ok: false,
      errors: { alpha: "parameter 'alpha' expects a number (float), not 'x'" },
      request: null,
      runs: 0
    };
    const server = new FakeServer(() => ({ json: check }));
    const form = {
      path: 'n.ipynb',
      mode: 'sweep' as const,
      fields: { alpha: 'x, 0.2' },
      parallel: '2',
      kernel: null,
      timeout: null
    };
    expect(await api.validateRun(form)).toEqual(check);
    const [seen] = server.calls('runs/validate', 'POST');
    expect(seen.body).toEqual(form);
    expect([...seen.query.keys()]).toEqual([]); // no cache-busting argument

    new FakeServer(() => error(404, 'NotFound', 'no such nbops endpoint'));
    expect(api.isMissingEndpoint(await failure(api.validateRun(form)))).toBe(true);
  });
});
