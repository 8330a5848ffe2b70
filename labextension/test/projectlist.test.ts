/** What the Models and Health tabs share: the project list's model (the current notebook's
 * project, the newest read wins, failures kept) and the panel skeleton drawn from it. */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';

import * as api from '../src/api';
import { ProjectListPanel, type IActionError } from '../src/panels/projectlist';
import { folderOf, ProjectListModel } from '../src/projectlist';
import { NotebookStore } from '../src/store';
import type { IModelList, IRegisteredModel } from '../src/tokens';
import { PanelStandIn, TrackerStandIn } from './lab';
import { error, FakeServer } from './server';

function named(name: string): IRegisteredModel {
  return {
    name,
    champion: null,
    challenger: null,
    aliases: {},
    versions: [],
    truncated: false,
    comparison: null
  };
}

function list(models: IRegisteredModel[] = [named('wine')], available = true): IModelList {
  return {
    project: 'proj',
    tracking: {
      uri: 'sqlite:///proj/.nbops/mlflow.db',
      available,
      message: available ? null : 'MLflow is not installed on the server',
      hint: available ? null : "pip install 'nbops[run]'"
    },
    thresholds: {
      metric: null,
      greater_is_better: true,
      min_value: null,
      min_absolute_change: null,
      min_relative_change: null
    },
    models,
    truncated: false
  };
}

/** A tab made of the skeleton only: its preamble and model nodes are plain text. */
class ListPanel extends ProjectListPanel<
  IModelList,
  IRegisteredModel,
  ProjectListModel<IModelList>
> {
  constructor(model: ProjectListModel<IModelList>) {
    super(model, {
      name: 'things',
      label: 'Things',
      caption: 'The things',
      refreshTitle: 'Read again',
      loading: 'Reading the things…',
      reading: 'read the things',
      empty: 'No thing yet.'
    });
  }

  actionError: api.NbopsApiError | null = null;

  protected _actionErrors(): IActionError[] {
    return [
      { error: this.actionError, what: 'open a thing', className: 'nbops-things-open-error' }
    ];
  }

  protected _preamble(list: IModelList): HTMLElement {
    const node = document.createElement('p');
    node.className = 'preamble';
    node.textContent = `${list.models.length} things`;
    return node;
  }

  protected _modelNode(model: IRegisteredModel): HTMLElement {
    const node = document.createElement('section');
    node.className = 'thing';
    node.textContent = model.name;
    return node;
  }
}

let tracker: TrackerStandIn;
let store: NotebookStore;
let model: ProjectListModel<IModelList>;

beforeEach(() => {
  tracker = new TrackerStandIn();
  store = new NotebookStore(tracker.tracker);
  model = new ProjectListModel<IModelList>(store, path => api.listModels(path), {
    path: null,
    list: null,
    loading: false,
    error: null
  });
});

afterEach(() => {
  model.dispose();
  store.dispose();
  vi.unstubAllGlobals();
});

describe('ProjectListModel', () => {
  test("the project is the current notebook's folder", () => {
    expect(folderOf(null)).toBeNull();
    expect(folderOf('top.ipynb')).toBeNull();
    expect(folderOf('proj/sub/a.ipynb')).toBe('proj/sub');
  });

  test("reads the list of the current notebook's project", async () => {
    const server = new FakeServer(r => (r.endpoint === 'models' ? { json: list() } : undefined));
    const seen: boolean[] = [];
    model.changed.connect(() => seen.push(model.state.loading));
    await model.refresh();
    expect(server.calls('models')[0].query.has('path')).toBe(false); // no notebook: the root
    expect(model.state.path).toBeNull();
    tracker.add(new PanelStandIn('proj/sub/wine.ipynb'));
    await model.refresh();
    expect(server.calls('models')[1].query.get('path')).toBe('proj/sub');
    expect(model.state.path).toBe('proj/sub');
    expect(model.state.list?.models[0].name).toBe('wine');
    expect(model.state.loading).toBe(false);
    expect(seen).toEqual([true, false, true, false]);
  });

  test('an answer that arrives after a newer one is dropped', async () => {
    let first = true;
    new FakeServer(async () => {
      if (first) {
        first = false;
        await new Promise(r => setTimeout(r, 30));
        return { json: list([]) };
      }
      return { json: list() };
    });
    const slow = model.refresh();
    await model.refresh();
    await slow;
    expect(model.state.list?.models).toHaveLength(1);
  });

  test('a failed read keeps the error to show, and the list read before', async () => {
    let fail = false;
    new FakeServer(() =>
      fail ? error(502, 'ToolError', 'cannot open the MLflow tracking store') : { json: list() }
    );
    await model.refresh();
    fail = true;
    await model.refresh();
    expect(model.state.error?.status).toBe(502);
    expect(model.state.error?.message).toContain('cannot open');
    expect(model.state.list?.models).toHaveLength(1);
    expect(model.state.loading).toBe(false);
  });

  test('an answer after dispose changes nothing', async () => {
    new FakeServer(async () => {
      await new Promise(r => setTimeout(r, 20));
      return { json: list() };
    });
    const reading = model.refresh();
    model.dispose();
    await reading;
    expect(model.isDisposed).toBe(true);
    expect(model.state.list).toBeNull();
  });
});

describe('ProjectListPanel', () => {
  test('the head names the project; Refresh reads again; the models follow the preamble', async () => {
    const server = new FakeServer(() => ({ json: list([named('wine'), named('iris')]) }));
    const panel = new ListPanel(model);
    const node = panel.node;
    expect(panel.id).toBe('nbops-things-tabpanel');
    expect(panel.title.label).toBe('Things');
    expect(node.classList.contains('nbops-things-panel')).toBe(true);
    expect(node.querySelector('.nbops-things-project')?.textContent).toBe('Project: …');
    const reading = model.refresh();
    expect(node.querySelector('.nbops-things-loading')?.textContent).toBe('Reading the things…');
    await reading;
    expect(node.querySelector('.nbops-things-loading')).toBeNull();
    const project = node.querySelector<HTMLElement>('.nbops-things-project');
    expect(project?.textContent).toBe('Project: proj');
    expect(project?.dataset.project).toBe('proj');
    const body = [...node.querySelectorAll('.nbops-things-body > *')].map(n => n.className);
    expect(body).toEqual(['preamble', 'thing', 'thing']);
    node.querySelector<HTMLButtonElement>('.nbops-things-refresh')?.click();
    await vi.waitFor(() => expect(server.calls('models')).toHaveLength(2));
    panel.dispose();
  });

  test('the errors, MLflow missing and the empty list are said', async () => {
    let answer = () => error(403, 'Forbidden', 'no access');
    new FakeServer(() => answer());
    const panel = new ListPanel(model);
    const node = panel.node;
    await model.refresh();
    const refused = node.querySelector<HTMLElement>('.nbops-things-error');
    expect(refused?.dataset.status).toBe('403');
    expect(refused?.textContent).toContain('Not allowed to read the things');
    expect(refused?.textContent).toContain('Ask for read access.');
    expect(node.querySelector('.preamble')).toBeNull(); // no list yet
    panel.actionError = api.toApiError(new Error('gone'));
    answer = () => ({ json: list([], false) });
    await model.refresh();
    expect(node.querySelector('.nbops-things-error')).toBeNull();
    expect(node.querySelector('.nbops-things-open-error')?.textContent).toContain('gone');
    const missing = node.querySelector('.nbops-things-missing');
    expect(missing?.textContent).toContain('MLflow is not installed on the server');
    expect(missing?.querySelector('.nbops-error-hint')?.textContent).toBe(
      "pip install 'nbops[run]'"
    );
    expect(node.querySelector('.nbops-things-empty')).toBeNull();
    answer = () => ({ json: list([]) });
    await model.refresh();
    expect(node.querySelector('.nbops-things-missing')).toBeNull();
    expect(node.querySelector('.nbops-things-empty')?.textContent).toBe('No thing yet.');
    expect(node.querySelector('.thing')).toBeNull();
    panel.dispose();
  });

  test('a disposed panel no longer draws', async () => {
    new FakeServer(() => ({ json: list() }));
    const panel = new ListPanel(model);
    panel.dispose();
    await model.refresh();
    expect(panel.node.querySelector('.thing')).toBeNull();
  });
});
