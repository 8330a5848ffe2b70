/**
 * What JupyterLab's packages expect of a browser and jsdom lacks (as JupyterLab's own jest
 * shim provides): the test environment only, nothing of the extension is replaced.
 */
if (typeof globalThis.DragEvent === 'undefined') {
  class DragEvent extends MouseEvent {
    readonly dataTransfer: DataTransfer | null = null;
  }
  (globalThis as { DragEvent?: unknown }).DragEvent = DragEvent;
}

if (typeof window.matchMedia !== 'function') {
  window.matchMedia = (query: string): MediaQueryList =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => undefined,
      removeListener: () => undefined,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
      dispatchEvent: () => false
    }) as MediaQueryList;
}

/** jsdom has no layout: an observer that never reports. */
class SilentObserver {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
  takeRecords(): [] {
    return [];
  }
}
for (const name of ['IntersectionObserver', 'ResizeObserver'] as const) {
  if (typeof window[name] === 'undefined') {
    (window as unknown as Record<string, unknown>)[name] = SilentObserver;
    (globalThis as unknown as Record<string, unknown>)[name] = SilentObserver;
  }
}
