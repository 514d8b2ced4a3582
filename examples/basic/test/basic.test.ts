import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';

const server = fileURLToPath(new URL('../server.mjs', import.meta.url));
let root: string;
let running: ChildProcess | undefined;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sessionfs-basic-'));
});
afterEach(async () => {
  running?.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

/** Runs `pnpm start`'s command on a free loopback port; resolves the URL it prints. */
async function start(): Promise<string> {
  const child = spawn(process.execPath, [server], {
    env: { ...process.env, PORT: '0', SESSIONS_DIR: join(root, 'sessions') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running = child;
  const [chunk] = (await Promise.race([
    once(child.stdout, 'data'),
    once(child, 'exit').then(() => Promise.reject(new Error('the server exited'))),
  ])) as [Buffer];
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(String(chunk))?.[0];
  if (!url) throw new Error(`no URL in ${String(chunk)}`);
  return url;
}

async function stop(): Promise<void> {
  const exited = once(running as ChildProcess, 'exit');
  running?.kill('SIGTERM');
  await exited;
  running = undefined;
}

it('counts visits in request.session.views, on disk, across restarts', async () => {
  let cookie = '';
  const visit = async (url: string) => {
    const response = await fetch(url, { headers: { cookie }, signal: AbortSignal.timeout(5_000) });
    cookie = response.headers.getSetCookie()[0]?.split(';')[0] ?? cookie;
    return response.json();
  };

  const first = await start();
  expect(await visit(first)).toEqual({ views: 1 });
  expect(await visit(first)).toEqual({ views: 2 });
  expect(
    (await readdir(join(root, 'sessions'))).filter((name) => !name.startsWith('.')),
  ).toHaveLength(1);
  await stop();

  const second = await start();
  expect(await visit(second)).toEqual({ views: 3 });
});
