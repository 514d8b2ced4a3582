import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sessionKey } from '@sessionfs/core';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const here = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

it('runs as a CommonJS app that require()s every runtime package', async () => {
  const { stdout } = await run(process.execPath, ['app.cjs'], { cwd: here });
  expect(stdout.trim().split('\n')).toEqual([
    'hello from require()',
    'hello from require()',
    'plugin: views 2',
    `FileStore: hello in ${sessionKey('cjs')}`,
  ]);
});

// A whole `tsc` run takes about 7 s alone on 2 cores, and passed 30 s in a CI run that had
// every package's tests going beside it.
const TYPE_CHECK_TIMEOUT_MS = 120_000;

for (const config of ['tsconfig.node16.json', 'tsconfig.node10.json']) {
  it(
    `type-checks as a CommonJS TypeScript project (${config})`,
    async () => {
      const result = await run(process.execPath, [tsc, '-p', config], { cwd: here }).catch(
        (error: { stdout: string }) => error,
      );
      expect(result.stdout).toBe('');
    },
    TYPE_CHECK_TIMEOUT_MS,
  );
}
