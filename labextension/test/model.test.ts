/** The lint model: when notebooks are linted, what is kept of the answers, fixing them. */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';

import { NbopsModel } from '../src/model';
import { NotebookStore } from '../src/store';
import { DEFAULT_SETTINGS, type IDiagnostic, type ILintResponse } from '../src/tokens';
import { PanelStandIn, TrackerStandIn } from './lab';
import { error, FakeServer, type IRequestSeen } from './server';

const DEBOUNCE = DEFAULT_SETTINGS.debounceMs;

function lintAnswer(diagnostics: Partial<IDiagnostic>[] = []): ILintResponse {
  return {
    version: '0.1.0',
    diagnostics: diagnostics.map(d => ({
      code: 'NB303',
      name: 'parameters-cell',
      source: 'nbops',
      severity: 'warning',
      message: 'no parameters cell',
      path: 'n.ipynb',
      cell: 1,
      cell_index: 0,
      cell_id: null,
      line: 1,
      column: 1,
      end_line: null,
      end_column: null,
      fix: null,
      url: null,
      ...d
    })),
    errors: [],
    summary: {
      files: 1,
      files_with_findings: diagnostics.length ? 1 : 0,
      unreadable: 0,
      findings: diagnostics.length,
      errors: 0,
      warnings: diagnostics.length,
      infos: 0,
      fixable: 0
    }
  };
}

let tracker: TrackerStandIn;
let store: NotebookStore;
let model: NbopsModel;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  tracker = new TrackerStandIn();
  store = new NotebookStore(tracker.tracker);
  model = new NbopsModel(store);
});

afterEach(() => {
  model.dispose();
  store.dispose();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function open(cells = [{ source: 'x=1' }]): PanelStandIn {
  const panel = new PanelStandIn('n.ipynb', cells);
  tracker.add(panel);
  return panel;
}

function sources(panel: PanelStandIn): string[] {
  return panel.context.model.sharedModel.cells.map(c => c.getSource());
}

describe('NbopsModel', () => {
  test('lints a notebook once it opens, after the debounce, with its unsaved content', async () => {
    const server = new FakeServer(() => ({ json: lintAnswer([{}]) }));
    model.settings = { ...DEFAULT_SETTINGS, select: ['NB3'] };
    const panel = open();
    await vi.advanceTimersByTimeAsync(DEBOUNCE - 1);
    expect(server.calls('lint')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    const [request] = server.calls('lint');
    const body = request.body as {
      path: string;
      select: string[];
      content: { cells: { source: string }[] };
    };
    expect(body.path).toBe('n.ipynb');
    expect(body.select).toEqual(['NB3']);
    expect(body.content.cells.map(c => c.source)).toEqual(['x=1']);
    const state = model.state(panel.panel);
    expect(state?.status).toBe('done');
    expect(state?.result?.diagnostics).toHaveLength(1);
    expect(state?.stale).toBe(false);
  });

  test('lints asked for within the debounce make one request; an edit makes the result stale', async () => {
    const server = new FakeServer(() => ({ json: lintAnswer() }));
    model.settings = { ...DEFAULT_SETTINGS, lintOnOpen: false };
    const panel = open();
    void model.scheduleLint(panel.panel);
    void model.scheduleLint(panel.panel);
    const last = model.scheduleLint(panel.panel);
    await vi.advanceTimersByTimeAsync(DEBOUNCE);
    await last;
    expect(server.calls('lint')).toHaveLength(1);

    panel.context.model.sharedModel.cells[0].setSource('x = 2');
    expect(model.state(panel.panel)?.stale).toBe(true);
  });

  test('a failed lint is kept as the error; the next success clears it', async () => {
    const server = new FakeServer(() =>
      error(500, 'InternalError', 'nbops failed; see the server log')
    );
    model.settings = { ...DEFAULT_SETTINGS, lintOnOpen: false };
    const panel = open();
    const first = model.lintNow(panel.panel);
    await vi.advanceTimersByTimeAsync(0);
    await first;
    expect(model.state(panel.panel)?.status).toBe('error');
    expect(model.state(panel.panel)?.error?.message).toBe('nbops failed; see the server log');

    server.answer(() => ({ json: lintAnswer() }));
    const second = model.lintNow(panel.panel);
    await vi.advanceTimersByTimeAsync(0);
    await second;
    expect(model.state(panel.panel)?.status).toBe('done');
    expect(model.state(panel.panel)?.error).toBeNull();
  });

  test('the answer to an older lint is dropped when a newer one was sent', async () => {
    const pending: Array<(answer: ILintResponse) => void> = [];
    new FakeServer(() => new Promise(resolve => pending.push(answer => resolve({ json: answer }))));
    model.settings = { ...DEFAULT_SETTINGS, lintOnOpen: false };
    const panel = open();
    void model.lintNow(panel.panel);
    await vi.advanceTimersByTimeAsync(0);
    void model.lintNow(panel.panel);
    await vi.advanceTimersByTimeAsync(0);
    expect(pending).toHaveLength(2);
    pending[1](lintAnswer([{ code: 'NEW' }]));
    await vi.advanceTimersByTimeAsync(0);
    pending[0](lintAnswer([{ code: 'OLD' }]));
    await vi.advanceTimersByTimeAsync(0);
    expect(model.state(panel.panel)?.result?.diagnostics.map(d => d.code)).toEqual(['NEW']);
  });

  test("fix all safe applies the server's fixed copy to the open notebook, then lints again", async () => {
    const server = new FakeServer((r: IRequestSeen) => {
      if (r.endpoint === 'fix') {
        const content = (r.body as { content: { cells: { source: string }[] } }).content;
        content.cells[0].source = 'x = 1';
        return {
          json: {
            content,
            applied: [{ code: 'FMT001', cell: 1, cell_index: 0, message: 'formatted' }],
            diff: '',
            changed: true,
            written: false,
            backup: null
          }
        };
      }
      return { json: lintAnswer() };
    });
    model.settings = { ...DEFAULT_SETTINGS, lintOnOpen: false };
    const panel = open([{ source: 'x=1' }, { source: 'y = 2' }]);
    const fixing = model.fixAllSafe(panel.panel);
    await vi.advanceTimersByTimeAsync(0);
    const answer = await fixing;
    expect(answer?.changed).toBe(true);
    expect(sources(panel)).toEqual(['x = 1', 'y = 2']);
    expect((server.calls('fix')[0].body as { unsafe: boolean }).unsafe).toBe(false);
    expect(server.calls('lint')).toHaveLength(1);
  });

  test('a notebook edited while the server was fixing it is left alone', async () => {
    let release: () => void = () => undefined;
    new FakeServer((r: IRequestSeen) => {
      const content = (r.body as { content: { cells: { source: string }[] } }).content;
      content.cells[0].source = 'FIXED';
      return new Promise(resolve => {
        release = () =>
          resolve({
            json: { content, applied: [], diff: '', changed: true, written: false, backup: null }
          });
      });
    });
    model.settings = { ...DEFAULT_SETTINGS, lintOnOpen: false };
    const panel = open();
    const fixing = model.fixAllSafe(panel.panel);
    await vi.advanceTimersByTimeAsync(0);
    panel.context.model.sharedModel.cells[0].setSource('typed meanwhile');
    release();
    await fixing;
    expect(sources(panel)).toEqual(['typed meanwhile']);
  });

  test('a closed notebook is forgotten', async () => {
    new FakeServer(() => ({ json: lintAnswer() }));
    const panel = open();
    expect(model.state(panel.panel)?.status).toBe('idle');
    panel.dispose();
    expect(model.state(panel.panel)).toBeNull();
  });

  test('a completed save lints again; a failed one does not', async () => {
    const server = new FakeServer(() => ({ json: lintAnswer() }));
    const panel = open();
    await vi.advanceTimersByTimeAsync(DEBOUNCE);
    expect(server.calls('lint')).toHaveLength(1);
    panel.context.saveState.emit('failed');
    await vi.advanceTimersByTimeAsync(DEBOUNCE);
    expect(server.calls('lint')).toHaveLength(1);
    panel.save();
    await vi.advanceTimersByTimeAsync(DEBOUNCE);
    expect(server.calls('lint')).toHaveLength(2);
  });

  test('follows the current notebook', () => {
    const seen: Array<string | null> = [];
    model.currentChanged.connect((_, panel) => seen.push(panel?.context.localPath ?? null));
    const a = open();
    const b = new PanelStandIn('b.ipynb');
    tracker.add(b);
    tracker.select(a);
    expect(model.current).toBe(a.panel);
    a.dispose();
    expect(model.current).toBeNull();
    expect(seen).toEqual(['n.ipynb', 'b.ipynb', 'n.ipynb', null]);
  });
});
