// Unit tests of the extension's models (`npm test`): test/**/*.test.ts, in jsdom.
import { defineConfig } from 'vitest/config';

/** What Yjs prints whenever @jupyter/ydoc builds a cell before adding it to the notebook. */
const YJS_NOISE =
  /^(Invalid access: Add Yjs type to a document before reading data\.|\[yjs#509\] Not same Y\.Doc)$/;

function isYjsNoise(log: string): boolean {
  const lines = log.split('\n').filter(line => line.trim() !== '');
  return lines.length > 0 && lines.every(line => YJS_NOISE.test(line.trim()));
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'jsdom',
    setupFiles: ['test/setup.ts'],
    onConsoleLog: log => !isYjsNoise(log)
  }
});
