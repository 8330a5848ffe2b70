/** The Models tab's model: the list of the current notebook's project, Promote in two steps,
 * downloads, and the timeline's lines. */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';

import { metricLines, ModelsModel, promotable, releases, shortSha } from '../src/models';
import { NotebookStore } from '../src/store';
import type { IModelList, IModelVersion, IPromotion, IRegisteredModel } from '../src/tokens';
import { PanelStandIn, TrackerStandIn } from './lab';
import { error, FakeServer } from './server';

function version(n: number, extra: Partial<IModelVersion> = {}): IModelVersion {
  return {
    version: n,
    run_id: `${n}`.repeat(32),
    created: `2026-12-0${n}T10:00:00+00:00`,
    aliases: [],
    run_status: 'FINISHED',
    metrics: { accuracy: 0.9 + n / 100, loss: 0.123456789 },
    commit: `${n}`.repeat(40),
    pr: String(10 + n),
    branch: null,
    gate: 'PASS',
    verdict: null,
    verdict_summary: null,
    artifacts: [{ path: 'logs/run.log', kind: 'logs', size: 10 }],
    ...extra
  };
}

function wine(extra: Partial<IRegisteredModel> = {}): IRegisteredModel {
  return {
    name: 'wine',
    champion: 1,
    challenger: 2,
    aliases: { champion: 1, challenger: 2 },
    versions: [
      version(2, { aliases: ['challenger'] }),
      version(1, { aliases: ['champion'], verdict: 'PASS' })
    ],
    truncated: false,
    comparison: null,
    ...extra
  };
}

function list(models: IRegisteredModel[] = [wine()]): IModelList {
  return {
    project: 'proj',
    tracking: {
      uri: 'sqlite:///proj/.nbops/mlflow.db',
      available: true,
      message: null,
      hint: null
    },
    thresholds: {
      metric: 'accuracy',
      greater_is_better: true,
      min_value: 0.8,
      min_absolute_change: 0.01,
      min_relative_change: null
    },
    models,
    truncated: false
  };
}

function promotion(status: 'PASS' | 'HOLD', dryRun: boolean): IPromotion {
  const moved = status === 'PASS' && !dryRun;
  return {
    model: 'wine',
    version: 2,
    run_id: '2'.repeat(32),
    verdict: {
      status,
      metric: 'accuracy',
      value: 0.92,
      champion: 0.91,
      has_champion: true,
      judgements: [{ threshold: 'min-value', ok: status === 'PASS', text: 'accuracy 0.92 ...' }],
      summary: `${status}: accuracy 0.92 ...`
    },
    champion_before: 1,
    champion_after: moved ? 2 : 1,
    moved,
    dry_run: dryRun
  };
}

let tracker: TrackerStandIn;
let store: NotebookStore;
let model: ModelsModel;

beforeEach(() => {
  tracker = new TrackerStandIn();
  store = new NotebookStore(tracker.tracker);
  model = new ModelsModel(store);
});

afterEach(() => {
  model.dispose();
  store.dispose();
  vi.unstubAllGlobals();
});

describe('the timeline and the cards', () => {
  test('releases are one line per version, newest first, with short sha and PR', () => {
    expect(releases(wine())).toEqual([
      {
        version: 2,
        date: '2026-12-02',
        commit: '2222222',
        pr: '#12',
        gate: 'PASS',
        verdict: '',
        aliases: ['challenger']
      },
      {
        version: 1,
        date: '2026-12-01',
        commit: '1111111',
        pr: '#11',
        gate: 'PASS',
        verdict: 'PASS',
        aliases: ['champion']
      }
    ]);
    const bare = releases(
      wine({ versions: [version(3, { commit: null, pr: '', created: null, gate: null })] })
    );
    expect(bare[0]).toMatchObject({ date: '', commit: '', pr: '', gate: '' });
    expect(shortSha(null)).toBe('');
  });

  test('only a challenger that is not the champion can be promoted', () => {
    expect(promotable(wine())?.version).toBe(2);
    expect(promotable(wine({ challenger: 1 }))).toBeNull();
    expect(promotable(wine({ challenger: null }))).toBeNull();
  });

  test('metrics are shown by name, rounded', () => {
    expect(metricLines(version(1))).toEqual(['accuracy 0.91', 'loss 0.123457']);
    expect(metricLines(version(1, { metrics: { auc: null } }))).toEqual(['auc –']);
  });
});

describe('ModelsModel', () => {
  // Reading the list (the project, the newest answer, failures): test/projectlist.test.ts.
  test("lists the models of the current notebook's project", async () => {
    const server = new FakeServer(r => (r.endpoint === 'models' ? { json: list() } : undefined));
    await model.refresh();
    expect(server.calls('models')[0].query.has('path')).toBe(false); // no notebook: the root
    tracker.add(new PanelStandIn('proj/wine.ipynb'));
    await model.refresh();
    expect(server.calls('models')[1].query.get('path')).toBe('proj');
    expect(model.state.path).toBe('proj');
    expect(model.state.list?.models[0].name).toBe('wine');
    expect(model.state.loading).toBe(false);
  });

  test('Promote shows the dry run first and promotes only once confirmed', async () => {
    const server = new FakeServer(r => {
      if (r.endpoint === 'models') {
        return { json: list() };
      }
      if (r.endpoint === 'models/wine/promote') {
        const body = r.body as { dry_run: boolean };
        return { json: promotion('PASS', body.dry_run) };
      }
      return undefined;
    });
    tracker.add(new PanelStandIn('proj/wine.ipynb'));
    await model.refresh();
    await model.judge('wine', 2);
    expect(model.state.promote?.phase).toBe('confirm');
    expect(model.state.promote?.preview?.verdict.status).toBe('PASS');
    expect(server.calls('models/wine/promote').map(c => c.body)).toEqual([
      { version: 2, dry_run: true, path: 'proj' }
    ]);
    await model.confirm();
    expect(model.state.promote?.phase).toBe('done');
    expect(model.state.promote?.result?.moved).toBe(true);
    expect(server.calls('models/wine/promote')[1].body).toEqual({
      version: 2,
      dry_run: false,
      path: 'proj'
    });
    expect(server.calls('models')).toHaveLength(2); // read again after the promotion
  });

  test('Cancel after the dry run writes nothing; a refusal is shown', async () => {
    const server = new FakeServer(r =>
      r.endpoint === 'models/wine/promote'
        ? (r.body as { dry_run: boolean }).dry_run
          ? { json: promotion('HOLD', true) }
          : error(403, 'Forbidden', 'not authorized to promote models')
        : undefined
    );
    await model.judge('wine', 2);
    model.cancel();
    await model.confirm(); // nothing to confirm any more
    expect(server.calls('models/wine/promote')).toHaveLength(1);
    expect(model.state.promote).toBeNull();
    await model.judge('wine', 2);
    await model.confirm();
    expect(model.state.promote?.phase).toBe('failed');
    expect(model.state.promote?.error?.status).toBe(403);
  });

  test('a download asks for the file of the version, and says why it failed', async () => {
    const server = new FakeServer(r =>
      r.endpoint === 'models/wine/versions/2/artifact'
        ? r.query.get('file') === 'logs/run.log'
          ? { status: 200, text: 'epoch 1', contentType: 'application/octet-stream' }
          : error(404, 'NotFoundError', "version 2 of 'wine' has no artifact")
        : undefined
    );
    const blob = await model.download('wine', 2, 'logs/run.log');
    expect(await blob?.text()).toBe('epoch 1');
    expect(server.seen[0].query.get('file')).toBe('logs/run.log');
    expect(await model.download('wine', 2, 'model/MLmodel')).toBeNull();
    expect(model.state.downloadError?.status).toBe(404);
  });
});
