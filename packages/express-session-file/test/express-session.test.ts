import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFaultyAdapter } from '@sessionfs/adapter-memory';
import { ErrorCodes, SessionStoreError } from '@sessionfs/core';
import type { SessionOptions } from 'express-session';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore, type FileStoreOptions } from '../src/index.js';
import { Client, expressVersions, type RunningApp, sleep, startApp } from './http-app.js';

describe.each(expressVersions)('through express-session on $name', ({ create }) => {
  let root: string;
  let dir: string;
  const running: Array<RunningApp | FileStore> = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sessionfs-express-'));
    dir = join(root, 'sessions');
  });

  afterEach(async () => {
    for (const resource of running.splice(0).reverse()) await resource.close();
    await rm(root, { recursive: true, force: true });
  });

  function openStore(options: Partial<FileStoreOptions> = {}): FileStore {
    const where = options.adapter === undefined ? { dir } : {};
    const store = new FileStore({ ...where, reapInterval: false, ...options } as FileStoreOptions);
    running.push(store);
    return store;
  }

  async function serve(store: FileStore, options: Partial<SessionOptions> = {}) {
    const app = await startApp(create, store, options);
    running.push(app);
    return new Client(app.url);
  }

  it('keeps a login and its counter across a restart over the same directory', async () => {
    const firstStore = openStore();
    const first = await startApp(create, firstStore);
    const client = new Client(first.url);
    await client.request('/login/ada', 'POST');
    expect((await client.request('/count')).body.views).toBe(1);
    expect((await client.request('/count')).body.views).toBe(2);
    await first.close();
    await firstStore.close();
    expect((await readdir(dir)).filter((name) => !name.startsWith('.'))).toHaveLength(1);

    client.url = (await serve(openStore())).url;
    const counted = await client.request('/count');
    expect(counted.body.views).toBe(3);
    expect((await client.request('/whoami')).body.user).toBe('ada');
  });

  it('with resave: false, touches an unchanged session rather than rewriting it', async () => {
    const store = openStore();
    const client = await serve(store, { resave: false });
    const calls: string[] = [];
    const { set, touch } = store;
    store.set = function (this: FileStore, ...args: Parameters<FileStore['set']>) {
      calls.push('set');
      return set.apply(this, args);
    } as FileStore['set'];
    store.touch = function (this: FileStore, ...args: Parameters<FileStore['touch']>) {
      calls.push('touch');
      return touch.apply(this, args);
    } as FileStore['touch'];
    await client.request('/count');
    expect(calls).toEqual(['set']);
    await client.request('/whoami');
    expect(calls).toEqual(['set', 'touch']);
    expect((await client.request('/whoami')).body.views).toBe(1);
  });

  it('with resave: true, saves an unchanged session again', async () => {
    const store = openStore();
    const client = await serve(store, { resave: true });
    const { id } = (await client.request('/count')).body as { id: string };
    const calls: string[] = [];
    const { set } = store;
    store.set = function (this: FileStore, ...args: Parameters<FileStore['set']>) {
      calls.push('set');
      return set.apply(this, args);
    } as FileStore['set'];
    await client.request('/whoami');
    expect(calls).toEqual(['set']);
    expect((await store.get(id))?.views).toBe(1);
  });

  it('with rolling, keeps an idle-timeout session alive past its first expiry', async () => {
    const store = openStore();
    // Times with room for a loaded 2-core machine running every package's tests at once.
    const client = await serve(store, { rolling: true, cookie: { maxAge: 2_000 } });
    await client.request('/login/ada', 'POST');
    // Four visits 700 ms apart: well past the first 2 s, never 2 s idle.
    for (let visit = 0; visit < 4; visit += 1) {
      await sleep(700);
      const { body, setCookie } = await client.request('/whoami');
      expect(body.user).toBe('ada');
      expect(setCookie).toMatch(/Expires=/);
    }
    await sleep(2_300);
    expect((await client.request('/whoami')).body.user).toBeNull();
  });

  it('without rolling, sends no new cookie for an unchanged session', async () => {
    const client = await serve(openStore(), { rolling: false, cookie: { maxAge: 60_000 } });
    await client.request('/count');
    expect((await client.request('/whoami')).setCookie).toBeUndefined();
  });

  it('with saveUninitialized: false, stores nothing for a visit that sets nothing', async () => {
    const store = openStore();
    const client = await serve(store, { saveUninitialized: false });
    expect((await client.request('/whoami')).setCookie).toBeUndefined();
    expect(await store.length()).toBe(0);
  });

  it('with saveUninitialized: true, stores the new, empty session', async () => {
    const store = openStore();
    const client = await serve(store, { saveUninitialized: true });
    const { body, setCookie } = await client.request('/whoami');
    expect(setCookie).toBeDefined();
    expect(await store.length()).toBe(1);
    expect(await store.get(body.id as string)).not.toBeNull();
  });

  it('regenerate gives a new id and removes the old session', async () => {
    const store = openStore();
    const client = await serve(store);
    const before = (await client.request('/count')).body.id as string;
    const login = (await client.request('/login/ada', 'POST')).body;
    expect(login.previousId).toBe(before);
    expect(login.id).not.toBe(before);
    expect(await store.get(before)).toBeNull();
    expect((await store.get(login.id as string))?.user).toBe('ada');
    expect((await client.request('/whoami')).body.user).toBe('ada');
  });

  it('reload reads the session as stored now', async () => {
    const client = await serve(openStore());
    await client.request('/count');
    expect((await client.request('/reload/41', 'POST')).body.views).toBe(41);
    expect((await client.request('/count')).body.views).toBe(42);
  });

  it('destroy with a callback removes the session', async () => {
    const store = openStore();
    const client = await serve(store);
    const { id } = (await client.request('/login/ada', 'POST')).body as { id: string };
    expect((await client.request('/logout', 'POST')).body.loggedOut).toBe(true);
    expect(await store.get(id)).toBeNull();
    expect((await client.request('/whoami')).body.user).toBeNull();
  });

  it('destroy without a callback removes the session', async () => {
    const store = openStore();
    const client = await serve(store);
    const { id } = (await client.request('/login/ada', 'POST')).body as { id: string };
    await client.request('/logout-without-callback', 'POST');
    await expect.poll(() => store.get(id), { timeout: 2_000 }).toBeNull();
    expect((await client.request('/whoami')).body.user).toBeNull();
  });

  it('destroy without a callback that fails neither crashes nor leaves an unhandled rejection', async () => {
    const adapter = createFaultyAdapter();
    const warnings: unknown[] = [];
    const store = openStore({
      adapter,
      logger: { warn: () => {}, error: (fields) => warnings.push(fields), debug: () => {} },
    } as Partial<FileStoreOptions>);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const client = await serve(store);
      const { id } = (await client.request('/login/ada', 'POST')).body as { id: string };
      adapter.inject({ kind: 'EIO', operations: ['delete'] });
      const logout = await client.request('/logout-without-callback', 'POST');
      expect(logout.status).toBe(200);
      await sleep(100);
      expect(unhandled).toEqual([]);
      adapter.heal();
      // The failed destroy left the session; the app is still serving.
      expect(await store.get(id)).not.toBeNull();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('expires a session at its cookie.maxAge', async () => {
    const store = openStore();
    const client = await serve(store, { cookie: { maxAge: 1_500 } });
    const { id } = (await client.request('/login/ada', 'POST')).body as { id: string };
    expect((await client.request('/whoami')).body.user).toBe('ada');
    await sleep(1_800);
    expect(await store.get(id)).toBeNull();
    // The client still sends the old cookie: the store no longer knows it.
    expect((await client.request('/whoami')).body.user).toBeNull();
  });

  it('keeps a browser-session cookie (no maxAge) under the store ttl', async () => {
    const store = openStore({ ttl: 60_000 });
    const client = await serve(store);
    const { id } = (await client.request('/login/ada', 'POST')).body as { id: string };
    expect(client.lastSetCookie).not.toMatch(/Expires=/);
    expect((await store.get(id))?.user).toBe('ada');
    expect((await client.request('/whoami')).body.user).toBe('ada');
  });

  it('stores sessions under long ids from genid', async () => {
    const store = openStore();
    // 150 random bytes in hex: 300 characters, beyond any file name.
    const client = await serve(store, { genid: () => randomBytes(150).toString('hex') });
    const { id } = (await client.request('/login/ada', 'POST')).body as { id: string };
    expect(id).toHaveLength(300);
    expect((await client.request('/count')).body.views).toBe(1);
    expect((await client.request('/count')).body.views).toBe(2);
    expect((await store.get(id))?.user).toBe('ada');
  });

  it('serves without sessions while disconnected, and with them once connected again', async () => {
    const adapter = createFaultyAdapter();
    const store = openStore({
      adapter,
      logger: { warn: () => {}, error: () => {} },
    } as Partial<FileStoreOptions>);
    const events: string[] = [];
    store.on('disconnect', () => events.push('disconnect'));
    store.on('connect', () => events.push('connect'));
    const client = await serve(store);
    await client.request('/login/ada', 'POST');

    const unavailable = new SessionStoreError(ErrorCodes.UNAVAILABLE, 'backend down');
    adapter.inject({ kind: 'throw', error: unavailable });
    expect((await client.request('/whoami')).status).toBe(500);
    expect(events).toEqual(['disconnect']);
    // express-session no longer calls the store: the request goes on without a session.
    expect((await client.request('/whoami')).body).toEqual({ session: false });

    adapter.heal();
    await expect.poll(() => events, { timeout: 5_000, interval: 100 }).toContain('connect');
    expect(events).toEqual(['disconnect', 'connect']);
    expect((await client.request('/whoami')).body.user).toBe('ada');
  });
});
