/** The Health tab: its model (the checks of the current notebook's project, the reports), the
 * helpers that turn checks into plots and lines, and the panel drawn from a list. */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';

import {
  driftedNames,
  HealthModel,
  latest,
  linePath,
  plots,
  scale,
  series,
  triggerLine,
  withPolicy
} from '../src/health';
import { HealthPanel } from '../src/panels/health';
import { NotebookStore } from '../src/store';
import type { IHealthCheck, IHealthList, IHealthModel } from '../src/tokens';
import { PanelStandIn, TrackerStandIn } from './lab';
import { error, FakeServer } from './server';

function check(n: number, status: 'OK' | 'WARN' | 'ALERT', psi: number): IHealthCheck {
  const drifted = status === 'ALERT' ? [{ name: 'alcohol', psi }] : [];
  return {
    run_id: `${n}`.repeat(32),
    time: `2026-12-0${n}T10:00:00+00:00`,
    version: 1,
    status,
    reasons: status === 'ALERT' ? [`ALERT: psi of 'alcohol' ${psi} > alert 0.2`] : [],
    drifted,
    psi: { alcohol: psi, hue: 0.01 },
    metrics: {
      max_psi: psi,
      prediction_psi: 0.02,
      rows: 3000,
      invalid_rows: 0,
      accuracy: status === 'ALERT' ? null : 0.95,
      f1: null,
      rmse: null,
      mae: null
    },
    current: 'data/current.csv'
  };
}

function wine(
  checks: IHealthCheck[] = [check(3, 'ALERT', 3.2), check(2, 'OK', 0.05)]
): IHealthModel {
  return { name: 'wine', champion: 1, checks, truncated: false };
}

function list(models: IHealthModel[] = [wine()], extra: Partial<IHealthList> = {}): IHealthList {
  return {
    project: 'proj',
    tracking: {
      uri: 'sqlite:///proj/.nbops/mlflow.db',
      available: true,
      message: null,
      hint: null
    },
    triggers: [
      { metric: 'psi', direction: 'above', warn: 0.1, alert: 0.2, description: 'PSI' },
      { metric: 'accuracy', direction: 'below', warn: null, alert: 0.8, description: 'acc' }
    ],
    triggers_error: null,
    models,
    truncated: false,
    ...extra
  };
}

let tracker: TrackerStandIn;
let store: NotebookStore;
let model: HealthModel;

beforeEach(() => {
  tracker = new TrackerStandIn();
  store = new NotebookStore(tracker.tracker);
  model = new HealthModel(store);
});

afterEach(() => {
  model.dispose();
  store.dispose();
  vi.unstubAllGlobals();
});

describe('checks as lines and plots', () => {
  test('the latest check is the first; series run oldest first, without missing values', () => {
    expect(latest(wine())?.status).toBe('ALERT');
    expect(latest(wine([]))).toBeNull();
    expect(series(wine(), 'max_psi').map(p => p.value)).toEqual([0.05, 3.2]);
    expect(series(wine(), 'accuracy').map(p => [p.value, p.status])).toEqual([[0.95, 'OK']]);
    expect(plots(wine()).map(p => p.metric)).toEqual([
      'max_psi',
      'prediction_psi',
      'accuracy',
      'invalid_rows'
    ]);
  });

  test('the line spans the box: the smallest value at the bottom, the largest at the top', () => {
    expect(scale([1, 3], 100, 50, 5)).toEqual([
      [5, 45],
      [95, 5]
    ]);
    expect(scale([2], 100, 50)).toEqual([[50, 25]]); // one value: the middle
    expect(scale([2, 2, 2], 100, 50, 0).map(([, y]) => y)).toEqual([25, 25, 25]);
    expect(linePath([1, 3], 100, 50)).toBe('M4 46 L96 4');
  });

  test('triggers and drifted features read as text', () => {
    expect(triggerLine(list().triggers[0])).toBe('psi: above warn 0.1, alert 0.2');
    expect(triggerLine(list().triggers[1])).toBe('accuracy: below alert 0.8');
    expect(driftedNames(check(1, 'ALERT', 3.21987))).toEqual(['alcohol (PSI 3.22)']);
  });

  test('the report gets a policy that allows no script, first in its head', () => {
    const page = withPolicy(
      '<!DOCTYPE html><html><head><title>x</title></head><body></body></html>'
    );
    expect(page).toMatch(
      /^<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none';/
    );
    expect(withPolicy('<p>bare</p>')).toContain('<head><meta http-equiv="Content-Security-Policy"');
  });
});

describe('HealthModel', () => {
  // Reading the list (the project, the newest answer, failures): test/projectlist.test.ts.
  test("reads the checks of the current notebook's project", async () => {
    const server = new FakeServer(r => (r.endpoint === 'health' ? { json: list() } : undefined));
    await model.refresh();
    expect(server.calls('health')[0].query.has('path')).toBe(false); // no notebook: the root
    tracker.add(new PanelStandIn('proj/wine.ipynb'));
    await model.refresh();
    expect(server.calls('health')[1].query.get('path')).toBe('proj');
    expect(model.state.list?.models[0].checks).toHaveLength(2);
  });

  test("a report is fetched from the check's URL and given the no-script policy", async () => {
    const run = '3'.repeat(32);
    const server = new FakeServer(r =>
      r.endpoint === `health/wine/checks/${run}/report`
        ? {
            status: 200,
            text: '<html><head></head><body>ALERT</body></html>',
            contentType: 'text/html'
          }
        : error(404, 'NotFoundError', "model 'wine' has no health check")
    );
    tracker.add(new PanelStandIn('proj/wine.ipynb'));
    await model.refresh();
    const text = (await model.report('wine', run)) ?? '';
    expect(text).toContain('Content-Security-Policy');
    expect(text).toContain('<body>ALERT</body>');
    expect(server.calls(`health/wine/checks/${run}/report`)[0].query.get('path')).toBe('proj');
    expect(await model.report('wine', 'f'.repeat(32))).toBeNull();
    expect(model.state.reportError?.status).toBe(404);
  });
});

describe('HealthPanel', () => {
  test('shows the badge, the plots, the timeline with the drifted features, the triggers', async () => {
    new FakeServer(r => (r.endpoint === 'health' ? { json: list() } : undefined));
    const panel = new HealthPanel({ model });
    await model.refresh();
    const node = panel.node;
    const wineNode = node.querySelector<HTMLElement>(".nbops-health-model[data-model='wine']");
    expect(wineNode?.dataset.status).toBe('ALERT');
    expect(node.querySelector('.nbops-health-badge')?.textContent).toBe('ALERT');
    const checks = [...node.querySelectorAll<HTMLElement>('.nbops-health-check')];
    expect(checks.map(c => c.dataset.status)).toEqual(['ALERT', 'OK']);
    expect(checks[0].querySelector<HTMLElement>('.nbops-health-drifted')?.dataset.features).toBe(
      'alcohol'
    );
    expect(checks[1].querySelector('.nbops-health-drifted')).toBeNull();
    const plot = node.querySelector<HTMLElement>(".nbops-health-plot[data-metric='max_psi']");
    expect(plot?.dataset.points).toBe('2');
    expect(plot?.querySelector('svg path')?.getAttribute('d')).toMatch(/^M\S+ \S+ L/);
    expect(plot?.querySelectorAll('svg circle')).toHaveLength(2);
    const rows = [...node.querySelectorAll<HTMLElement>('.nbops-health-trigger')];
    expect(rows.map(r => r.dataset.metric)).toEqual(['psi', 'accuracy']);
    panel.dispose();
  });

  test('a bad [tool.nbops.health] is shown instead of the triggers; no checks says how', async () => {
    const bad = list([], {
      triggers: [],
      triggers_error: { message: 'unknown metric', hint: 'known: psi', path: 'proj/pyproject.toml' }
    });
    new FakeServer(() => ({ json: bad }));
    const panel = new HealthPanel({ model });
    await model.refresh();
    const problem = panel.node.querySelector('.nbops-health-triggers-error');
    expect(problem?.textContent).toContain('proj/pyproject.toml: unknown metric');
    expect(panel.node.querySelector('.nbops-health-triggers')).toBeNull();
    expect(panel.node.querySelector('.nbops-health-empty')?.textContent).toContain('nbops monitor');
    panel.dispose();
  });
});
