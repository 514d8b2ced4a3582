import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, expect, it } from 'vitest';

const run = promisify(execFile);
const demo = fileURLToPath(new URL('../demo.mjs', import.meta.url));
let dir: string;

beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'sessionfs-demo-')), 'sessions');
});
afterEach(async () => {
  await rm(join(dir, '..'), { recursive: true, force: true });
});

it('keeps the session on disk between runs', async () => {
  const env = { ...process.env, SESSIONS_DIR: dir };
  const first = await run(process.execPath, [demo], { env });
  expect(first.stdout).toContain('visits: 1');
  const second = await run(process.execPath, [demo], { env });
  expect(second.stdout).toContain('visits: 2');
  expect(await readdir(dir)).toEqual(['demo']);
});
