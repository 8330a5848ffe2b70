/** The notebook-state store: the current notebook, its path, readiness, dirty flag, saves. */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';

import { NotebookStore, type NotebookChange } from '../src/store';
import { PanelStandIn, TrackerStandIn } from './lab';
import { settle } from './server';

let tracker: TrackerStandIn;
let store: NotebookStore;
let seen: NotebookChange[];

beforeEach(() => {
  tracker = new TrackerStandIn();
  store = new NotebookStore(tracker.tracker);
  seen = [];
  store.changed.connect((_, what) => seen.push(what));
});

afterEach(() => {
  store.dispose();
});

describe('NotebookStore', () => {
  test('starts with no notebook', () => {
    expect(store.current).toEqual({ panel: null, path: null, ready: false, dirty: false });
  });

  test('knows the notebooks open before it was made', () => {
    const tracker2 = new TrackerStandIn();
    const a = new PanelStandIn('a.ipynb');
    tracker2.add(a);
    const store2 = new NotebookStore(tracker2.tracker);
    expect(store2.current.panel).toBe(a.panel);
    expect(store2.current.path).toBe('a.ipynb');
    expect(store2.panels).toEqual([a.panel]);
    store2.dispose();
  });

  test('follows the current notebook', () => {
    const a = new PanelStandIn('a.ipynb');
    const b = new PanelStandIn('dir/b.ipynb');
    tracker.add(a);
    tracker.add(b);
    expect(store.current).toEqual({
      panel: b.panel,
      path: 'dir/b.ipynb',
      ready: true,
      dirty: false
    });
    tracker.select(a);
    expect(store.current.path).toBe('a.ipynb');
    tracker.select(a); // the same one again: nothing changed
    expect(seen).toEqual(['current', 'current', 'current']);
  });

  test('the dirty flag of the current notebook only', () => {
    const a = new PanelStandIn('a.ipynb');
    const b = new PanelStandIn('b.ipynb');
    tracker.add(a);
    tracker.add(b);
    seen.length = 0;
    a.context.model.dirty = true; // not the current one
    expect(seen).toEqual([]);
    b.context.model.dirty = true;
    expect(store.current.dirty).toBe(true);
    expect(seen).toEqual(['dirty']);
    tracker.select(a);
    expect(store.current).toMatchObject({ path: 'a.ipynb', dirty: true });
    b.context.model.dirty = false; // no longer watched
    a.save();
    expect(store.current.dirty).toBe(false);
    expect(seen).toEqual(['dirty', 'current', 'dirty']);
  });

  test('a notebook whose context is not ready yet', async () => {
    const a = new PanelStandIn('a.ipynb', [], false);
    tracker.add(a);
    a.context.model.dirty = true;
    expect(store.current).toMatchObject({ panel: a.panel, ready: false, dirty: false });
    a.makeReady();
    await settle();
    expect(store.current).toMatchObject({ ready: true, dirty: true });
    expect(seen).toEqual(['current', 'ready']);
    a.context.model.dirty = false;
    expect(seen).toEqual(['current', 'ready', 'dirty']);
  });

  test('a rename', () => {
    const a = new PanelStandIn('a.ipynb');
    tracker.add(a);
    a.rename('exercise/a.ipynb');
    expect(store.current.path).toBe('exercise/a.ipynb');
    expect(seen).toEqual(['current', 'path']);
  });

  test('saves of every notebook, and the tracked ones', () => {
    const a = new PanelStandIn('a.ipynb');
    const b = new PanelStandIn('b.ipynb');
    const added: string[] = [];
    const saved: string[] = [];
    store.added.connect((_, panel) => added.push(panel.context.localPath));
    store.saved.connect((_, panel) => saved.push(panel.context.localPath));
    tracker.add(a);
    tracker.add(b);
    a.save();
    b.context.saveState.emit('failed');
    expect(added).toEqual(['a.ipynb', 'b.ipynb']);
    expect(saved).toEqual(['a.ipynb']);
    expect(store.panels).toEqual([a.panel, b.panel]);
  });

  test('a closed notebook is forgotten', () => {
    const a = new PanelStandIn('a.ipynb');
    const saved: string[] = [];
    store.saved.connect((_, panel) => saved.push(panel.context.localPath));
    tracker.add(a);
    a.dispose();
    expect(store.current.panel).toBeNull();
    expect(store.panels).toEqual([]);
    a.context.saveState.emit('completed');
    expect(saved).toEqual([]);
  });

  test('nothing is emitted once disposed', () => {
    const a = new PanelStandIn('a.ipynb');
    tracker.add(a);
    store.dispose();
    a.context.model.dirty = true;
    a.rename('b.ipynb');
    tracker.add(new PanelStandIn('c.ipynb'));
    expect(seen).toEqual(['current']);
    expect(store.isDisposed).toBe(true);
  });
});
