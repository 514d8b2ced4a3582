import { defineProject } from 'vitest/config';

/** The test settings every package shares; a package's vitest.config.ts re-exports this. */
export default defineProject({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
