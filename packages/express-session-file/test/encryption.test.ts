// `encryption` through express-session: a logged-in session is sealed on disk, served to
// its cookie, and survives a restart of the store with the keys rotated.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../src/index.js';
import { Client, expressVersions, type RunningApp, startApp } from './http-app.js';

const USER = 'ada-lovelace-the-user';

describe.each(expressVersions)('encryption through express-session on $name', ({ create }) => {
  let root: string;
  const running: Array<FileStore | RunningApp> = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sessionfs-express-encryption-'));
  });

  afterEach(async () => {
    for (const resource of running.splice(0).reverse()) await resource.close();
    await rm(root, { recursive: true, force: true });
  });

  const open = async (keys: string[]) => {
    const store = new FileStore({
      dir: join(root, 'sessions'),
      reapInterval: false,
      encryption: { keys },
    });
    const app = await startApp(create, store);
    running.push(store, app);
    return app;
  };

  it('seals the session on disk and serves it again after a restart with the keys rotated', async () => {
    const [oldKey, newKey] = [randomBytes(32).toString('base64'), randomBytes(32).toString('hex')];
    const first = await open([oldKey]);
    const client = new Client(first.url);
    await client.request(`/login/${USER}`, 'POST');
    await client.request('/count');
    const [file] = await readdir(join(root, 'sessions'));
    const onDisk = await readFile(join(root, 'sessions', file as string));
    expect(onDisk.includes(USER)).toBe(false);
    expect(onDisk.includes('views')).toBe(false);

    const rotated = await open([newKey, oldKey]);
    client.url = rotated.url;
    expect((await client.request('/whoami')).body).toMatchObject({ user: USER, views: 1 });
    // The next save writes it under the new key: the old one can go.
    await client.request('/count');
    const newOnly = await open([newKey]);
    client.url = newOnly.url;
    expect((await client.request('/whoami')).body).toMatchObject({ user: USER, views: 2 });
  });
});
