// `encryption` through the plugin: a session is sealed on disk and read again by an app
// restarted on the same directory with the keys rotated.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp, Client } from './build-app.js';

let root: string;
const apps: FastifyInstance[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sessionfs-fastify-encryption-'));
});

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  await rm(root, { recursive: true, force: true });
});

async function start(keys: string[]) {
  const { app } = await buildApp({ store: { dir: join(root, 'sessions'), encryption: { keys } } });
  apps.push(app);
  return app;
}

it('seals the session on disk and reads it after a restart with the keys rotated', async () => {
  const [oldKey, newKey] = [randomBytes(32).toString('hex'), randomBytes(32).toString('base64')];
  const client = new Client(await start([oldKey]));
  await client.json('POST', '/login');
  await client.json('GET', '/views');
  const files = (await readdir(join(root, 'sessions'))).filter((name) => !name.startsWith('.'));
  expect(files).toHaveLength(1);
  const onDisk = await readFile(join(root, 'sessions', files[0] as string));
  expect(onDisk.includes('ada')).toBe(false);
  expect(onDisk.includes('views')).toBe(false);

  await (apps.pop() as FastifyInstance).close();
  const restarted = new Client(await start([newKey, oldKey]));
  restarted.cookie = client.cookie;
  expect(await restarted.json('GET', '/views')).toEqual({ views: 2 });
  await (apps.pop() as FastifyInstance).close();
  const newOnly = new Client(await start([newKey]));
  newOnly.cookie = restarted.cookie;
  expect(await newOnly.json('GET', '/views')).toEqual({ views: 3 });
});
