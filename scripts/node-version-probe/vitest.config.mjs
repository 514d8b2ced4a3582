import { defineConfig } from 'vitest/config';

// Its own config, so vitest does not climb to the root one and run every package's tests.
export default defineConfig({
  // Vite's cache goes beside the others rather than into a node_modules of its own here.
  cacheDir: '../../node_modules/.vite/node-version-probe',
  test: { include: ['*.test.mjs'] },
});
