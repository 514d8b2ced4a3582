import { defineConfig } from 'vitest/config';

// Runs every package's tests in one process tree: `pnpm vitest` from the root.
export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*', 'tests/*', 'bench'],
  },
});
