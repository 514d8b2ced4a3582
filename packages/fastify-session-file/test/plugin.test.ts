import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fastifyCookie from '@fastify/cookie';
import fastifySession, { MemoryStore } from '@fastify/session';
import { type FsAdapter, redactKey, sessionKey } from '@sessionfs/core';
import Fastify, { type FastifyInstance, type Session } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileSessionStore, fastifySessionFile, hasErrorCode } from '../src/index.js';
import {
  type Backend,
  backends,
  buildApp,
  Client,
  type LogLine,
  registerRoutes,
  SECRET,
  storedIds,
} from './build-app.js';

const PLUGIN_NAME = '@sessionfs/fastify-session-file';
let apps: FastifyInstance[] = [];

afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  apps = [];
});

async function start(options: Parameters<typeof buildApp>[0]) {
  const built = await buildApp(options);
  apps.push(built.app);
  return { ...built, client: new Client(built.app) };
}

/** Waits, at most `ms`, for a log line that `match` accepts. */
async function waitForLog(logs: LogLine[], match: (line: LogLine) => boolean, ms = 3_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const line = logs.find(match);
    if (line) return line;
    await sleep(20);
  }
  throw new Error(`no matching log line within ${ms} ms: ${JSON.stringify(logs)}`);
}

describe.each(Object.keys(backends) as (keyof typeof backends)[])('over the %s adapter', (kind) => {
  let backend: Backend;

  beforeEach(async () => {
    backend = await backends[kind]();
    return () => backend.cleanup();
  });

  it('keeps a session across requests and, with rolling (the default), saves it on every one', async () => {
    const { app, client } = await start({
      store: backend.store,
      cookie: { secure: false, maxAge: 60_000 },
    });
    const expiries: number[] = [];
    for (const expected of [1, 2, 3]) {
      const response = await client.request('GET', '/views');
      expect(response.json()).toEqual({ views: expected });
      expect(response.cookies.map((cookie) => cookie.name)).toEqual(['sessionId']);
      const [id] = await storedIds(app);
      const stored = await app.fileSessionStore.engine.adapter.stat?.(sessionKey(id as string));
      expiries.push(stored?.expiresAt ?? Number.NaN);
      await sleep(15);
    }
    const ids = await storedIds(app);
    expect(ids).toHaveLength(1);
    expect(backend.exists(app.fileSessionStore.sessionFile(ids[0] as string))).toBe(true);
    expect(await backend.files()).toEqual([sessionKey(ids[0] as string)]);
    // Each save moved the expiry forward: an active user is not logged out at maxAge.
    expect(expiries[1]).toBeGreaterThan(expiries[0] as number);
    expect(expiries[2]).toBeGreaterThan(expiries[1] as number);
  });

  it('with rolling, a request that changes nothing does no I/O but its read (touchAfter)', async () => {
    const { app, client } = await start({
      store: backend.store,
      // An hour: the default touchAfter (1%) is then 36 s, which no loaded machine takes
      // for these requests (with a minute's 600 ms, one did).
      cookie: { secure: false, maxAge: 3_600_000 },
    });
    await client.json('GET', '/views');
    const adapter = app.fileSessionStore.engine.adapter as Required<FsAdapter>;
    const writes = vi.spyOn(adapter, 'write');
    const touches = vi.spyOn(adapter, 'touch');
    const stats = vi.spyOn(adapter, 'stat');
    // Within the default touchAfter: the stored expiry may trail that much.
    for (let request = 0; request < 3; request += 1) {
      await sleep(5);
      expect(await client.json('GET', '/peek')).toEqual({ views: 1 });
    }
    expect(writes).not.toHaveBeenCalled();
    expect(touches).not.toHaveBeenCalled();
    expect(stats).not.toHaveBeenCalled();
    expect(await client.json('GET', '/views')).toEqual({ views: 2 });
    expect(writes).toHaveBeenCalledTimes(1);
  });

  it('with rolling and touchAfter 0, a request that changes nothing moves the expiry instead of rewriting', async () => {
    const { app, client } = await start({
      store: { ...backend.store, touchAfter: 0 },
      cookie: { secure: false, maxAge: 60_000 },
    });
    await client.json('GET', '/views');
    const adapter = app.fileSessionStore.engine.adapter as Required<FsAdapter>;
    const writes = vi.spyOn(adapter, 'write');
    const touches = vi.spyOn(adapter, 'touch');
    for (let request = 0; request < 3; request += 1) {
      await sleep(5); // a new expiry each time
      expect(await client.json('GET', '/peek')).toEqual({ views: 1 });
    }
    expect(writes).not.toHaveBeenCalled();
    expect(touches).toHaveBeenCalledTimes(3);
    expect(await client.json('GET', '/views')).toEqual({ views: 2 });
    expect(writes).toHaveBeenCalledTimes(1);
  });

  it('with saveUninitialized: false, stores nothing until the session changes', async () => {
    const { client } = await start({ store: backend.store, saveUninitialized: false });
    const untouched = await client.request('GET', '/peek');
    expect(untouched.json()).toEqual({ views: null });
    expect(untouched.cookies).toEqual([]);
    expect(await backend.files()).toEqual([]);

    expect(await client.json('GET', '/views')).toEqual({ views: 1 });
    expect(await backend.files()).toHaveLength(1);
    expect(await client.json('GET', '/peek')).toEqual({ views: 1 });
  });

  it('regenerate() moves the kept fields to a new id and removes the old session file', async () => {
    const { app, client } = await start({ store: backend.store });
    await client.json('GET', '/views');
    await client.json('GET', '/views');
    const [before] = await storedIds(app);
    const oldCookie = client.cookie;

    expect(await client.json('POST', '/login')).toEqual({ user: 'ada', views: 2 });
    const [after, ...others] = await storedIds(app);
    expect(others).toEqual([]);
    expect(after).not.toBe(before);
    expect(client.cookie).not.toBe(oldCookie);
    expect(backend.exists(app.fileSessionStore.sessionFile(before as string))).toBe(false);
    expect(backend.exists(app.fileSessionStore.sessionFile(after as string))).toBe(true);
    expect(await client.json('GET', '/peek')).toEqual({ views: 2 });

    // The pre-login cookie no longer opens anything.
    const stale = new Client(app);
    stale.cookie = oldCookie;
    expect(await stale.json('GET', '/peek')).toEqual({ views: null });
  });

  it('destroy() removes the session and its file; the old cookie gets a fresh session', async () => {
    const { app, client } = await start({ store: backend.store });
    await client.json('GET', '/views');
    const [id] = await storedIds(app);
    expect(await client.json('POST', '/logout')).toEqual({ ok: true });
    expect(backend.exists(app.fileSessionStore.sessionFile(id as string))).toBe(false);
    expect(await storedIds(app)).toEqual([]);
    expect(await client.json('GET', '/views')).toEqual({ views: 1 });
  });

  it('reload() reads the stored session again, dropping unsaved changes', async () => {
    const { app, client } = await start({ store: backend.store });
    await client.json('GET', '/views');
    const [id] = (await storedIds(app)) as [string];
    // Another process (or request) changes the stored session meanwhile.
    const stored = await app.fileSessionStore.engine.get(id);
    expect(stored).not.toBeNull();
    await app.fileSessionStore.engine.set(id, { ...(stored as Session), user: 'grace' });
    expect(await client.json('POST', '/reload')).toEqual({ views: 1, user: 'grace' });
    expect(await client.json('GET', '/peek')).toEqual({ views: 1 });
  });

  it('does not serve an expired session: the user gets a fresh one and the old file goes', async () => {
    const { app, client } = await start({
      store: backend.store,
      // Long enough that a loaded machine still sees the fresh session before it expires.
      cookie: { secure: false, maxAge: 1_500 },
    });
    expect(await client.json('GET', '/views')).toEqual({ views: 1 });
    expect(await client.json('GET', '/views')).toEqual({ views: 2 });
    const [expired] = (await storedIds(app)) as [string];
    const expiredFile = app.fileSessionStore.sessionFile(expired);
    expect(backend.exists(expiredFile)).toBe(true);

    await sleep(1_700);
    expect(await client.json('GET', '/views')).toEqual({ views: 1 });
    const [fresh, ...others] = await storedIds(app);
    expect(others).toEqual([]);
    expect(fresh).not.toBe(expired);
    expect(backend.exists(expiredFile)).toBe(false);
    expect(await backend.files()).toEqual([sessionKey(fresh as string)]);
  });

  it('reports a corrupt session file through fastify.log and treats it as no session', async () => {
    const { app, client, logs } = await start({ store: backend.store });
    await client.json('GET', '/views');
    const [id] = (await storedIds(app)) as [string];
    await backend.write(app.fileSessionStore.sessionFile(id), 'not a session record');

    expect(await client.json('GET', '/peek')).toEqual({ views: null });
    const line = await waitForLog(logs, (entry) => entry.level === 40);
    // By its shortened key: a session id is a bearer secret, and never reaches the log.
    expect(line).toMatchObject({ plugin: PLUGIN_NAME, key: redactKey(sessionKey(id)) });
    expect(JSON.stringify(logs)).not.toContain(id);
    expect(line.msg).toMatch(/set aside/);
  });

  it('logs reaper runs through fastify.log, and stops the reaper when Fastify closes', async () => {
    const { app, client, logs } = await start({
      store: { ...backend.store, reapInterval: 50 },
      cookie: { secure: false, maxAge: 100 },
    });
    await client.json('GET', '/views');
    const reaped = await waitForLog(
      logs,
      (line) => /reaped expired sessions/.test(line.msg) && line.removed === 1,
    );
    expect(reaped).toMatchObject({ level: 30, plugin: PLUGIN_NAME, removed: 1 });
    expect(await backend.files()).toEqual([]);

    await app.close();
    const runs = logs.filter((line) => /reaped/.test(line.msg)).length;
    await sleep(200);
    expect(logs.filter((line) => /reaped/.test(line.msg))).toHaveLength(runs);
    const error = await app.fileSessionStore.engine.get('x').catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_CLOSED')).toBe(true);
  });
});

describe('fastifySessionFile', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sessionfs-plugin-'));
    return () => rm(root, { recursive: true, force: true });
  });

  it('stores in ./sessions by default', async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const { app, client } = await start({});
      await client.json('GET', '/views');
      expect(app.fileSessionStore.dir).toBe(join(root, 'sessions'));
      expect((await stat(join(root, 'sessions'))).mode & 0o777).toBe(0o700);
    } finally {
      process.chdir(cwd);
    }
  });

  it('answers 500, not "logged out", when the session cannot be written', async () => {
    const blocked = join(root, 'not-a-directory');
    await writeFile(blocked, '');
    const { client, logs } = await start({ store: { dir: join(blocked, 'sessions') } });
    const response = await client.request('GET', '/views');
    expect(response.statusCode).toBe(500);
    const line = await waitForLog(logs, (entry) => entry.level === 50);
    expect(line.err).toMatchObject({ code: 'ERR_IO' });
  });

  it('uses a store it is given, and leaves closing it to its owner', async () => {
    const store = new FileSessionStore({ dir: join(root, 's'), reapInterval: false });
    const { app, client } = await start({ store });
    expect(app.fileSessionStore).toBe(store);
    await client.json('GET', '/views');
    await app.close();
    expect(await store.engine.length()).toBe(1);
    await store.close();
  });

  it('reuses @fastify/cookie when the app registered it already', async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(fastifyCookie, { secret: 'cookie-secret' });
    await app.register(fastifySessionFile, {
      secret: SECRET,
      cookie: { secure: false },
      store: { dir: join(root, 's'), reapInterval: false },
    });
    registerRoutes(app);
    const client = new Client(app);
    await client.json('GET', '/views');
    expect(await client.json('GET', '/views')).toEqual({ views: 2 });
    expect(app.signCookie('x')).toMatch(/^x\./);
  });

  it('fails to start with the error of @fastify/session for a short secret, and closes its store', async () => {
    const app = Fastify();
    apps.push(app);
    app.register(fastifySessionFile, { secret: 'short', store: { dir: join(root, 's') } });
    await expect(app.ready()).rejects.toThrow(/32 or greater/);
    // The store it had created for the app is closed, its reaper stopped.
    const error = await app.fileSessionStore.engine.get('x').catch((e: unknown) => e);
    expect(hasErrorCode(error, 'ERR_CLOSED')).toBe(true);
  });
});

describe('compared with the MemoryStore of @fastify/session', () => {
  /** Requests a user makes, in order; each answer and each cookie change is compared. */
  const journey: ['GET' | 'POST', string][] = [
    ['GET', '/peek'],
    ['GET', '/views'],
    ['GET', '/views'],
    ['POST', '/reload'],
    ['POST', '/login'],
    ['GET', '/peek'],
    ['POST', '/reload'],
    ['POST', '/logout'],
    ['GET', '/peek'],
    ['GET', '/views'],
  ];

  async function walk(app: FastifyInstance) {
    const client = new Client(app);
    const steps: unknown[] = [];
    let previous: string | undefined;
    for (const [method, url] of journey) {
      const response = await client.request(method, url);
      steps.push({
        step: `${method} ${url}`,
        status: response.statusCode,
        body: response.json(),
        setCookie: response.cookies.length > 0,
        newId: client.cookie !== previous,
      });
      previous = client.cookie;
    }
    return steps;
  }

  for (const saveUninitialized of [true, false]) {
    it(`answers every step alike (saveUninitialized: ${saveUninitialized})`, async () => {
      const reference = Fastify();
      apps.push(reference);
      await reference.register(fastifyCookie);
      await reference.register(fastifySession, {
        secret: SECRET,
        cookie: { secure: false },
        saveUninitialized,
        store: new MemoryStore(),
      });
      registerRoutes(reference);

      for (const kind of Object.keys(backends) as (keyof typeof backends)[]) {
        const backend = await backends[kind]();
        try {
          const { app } = await start({ store: backend.store, saveUninitialized });
          expect(await walk(app), kind).toEqual(await walk(reference));
        } finally {
          await backend.cleanup();
        }
      }
    });
  }
});
