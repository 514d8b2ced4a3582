import { expect, test } from 'vitest';

test('the test worker runs under the Node that scripts/test-node-versions.mjs put first in PATH', () => {
  console.log(`test worker: Node ${process.version} at ${process.execPath}`);
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: set by scripts/test-node-versions.mjs, which runs this probe itself, not through turbo.
  expect(process.version).toBe(process.env.EXPECTED_NODE_VERSION);
});
