import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Signer } from '@fastify/cookie';
import { createFaultyAdapter, createMemoryAdapter } from '@sessionfs/adapter-memory';
import type { FastifyInstance, Session } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type FastifySessionFileOptions,
  FileSessionStore,
  SessionStoreError,
  type StoreLogger,
} from '../src/index.js';
import {
  type Backend,
  backends,
  buildApp,
  Client,
  COOKIE_NAME,
  type LogLine,
  SECRET,
  storedIds,
} from './build-app.js';

const PLUGIN_NAME = '@sessionfs/fastify-session-file';
const WARN = 40;
const ERROR = 50;

let apps: FastifyInstance[] = [];
let stores: FileSessionStore[] = [];

afterEach(async () => {
  await Promise.all([...apps.map((app) => app.close()), ...stores.map((store) => store.close())]);
  apps = [];
  stores = [];
});

/** `buildApp`'s app (the plugin, its routes with `/health`, its log lines), closed after the test. */
async function start(options: Partial<FastifySessionFileOptions>) {
  const { app, logs } = await buildApp(options);
  apps.push(app);
  return { app, logs, client: new Client(app) };
}

/** Sends `count` requests without a cookie to `url`, `parallel` at a time; their status codes. */
async function cookieless(app: FastifyInstance, url: string, count: number, parallel = 50) {
  const statuses: number[] = [];
  for (let sent = 0; sent < count; sent += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - sent) }, () =>
      app.inject({ method: 'GET', url }),
    );
    for (const response of await Promise.all(batch)) statuses.push(response.statusCode);
  }
  return statuses;
}

/** The session cookies an answer sets (not those it clears). */
function sessionCookies(response: { cookies: { name: string; value: string }[] }) {
  return response.cookies.filter((cookie) => cookie.name === COOKIE_NAME && cookie.value !== '');
}

/** The `code` of the error a log line carries, whichever way it was logged. */
function loggedCode(line: LogLine): unknown {
  return line.code ?? (line.err as { code?: unknown } | undefined)?.code;
}

describe('item 5: a request that never uses its session costs no file', () => {
  describe.each(Object.keys(backends) as (keyof typeof backends)[])(
    'over the %s adapter',
    (kind) => {
      let backend: Backend;

      beforeEach(async () => {
        backend = await backends[kind]();
        return () => backend.cleanup();
      });

      it('stores no file for 2,000 cookieless requests to /health, and still keeps the sessions apps use', async () => {
        const { app, client } = await start({ store: backend.store });

        const statuses = await cookieless(app, '/health', 2_000);
        expect(statuses.filter((status) => status !== 200)).toEqual([]);
        expect((await backend.files()).length).toBe(0);
        expect(await app.fileSessionStore.engine.length()).toBe(0);
        // A route that only reads the session stores nothing either, and sets no cookie.
        const peek = await app.inject({ method: 'GET', url: '/peek' });
        expect(peek.json()).toEqual({ views: null });
        expect(sessionCookies(peek)).toEqual([]);
        expect(await backend.files()).toEqual([]);

        // A route that puts something in the session still gets it stored and kept.
        expect(await client.json('GET', '/views')).toEqual({ views: 1 });
        expect(await client.json('GET', '/views')).toEqual({ views: 2 });
        expect(await backend.files()).toHaveLength(1);
        expect(await storedIds(app)).toHaveLength(1);

        // An app that wants the old behaviour opts back in: each visitor's empty session is stored.
        const optIn = await backends[kind]();
        try {
          const { app: optedIn } = await start({ store: optIn.store, saveUninitialized: true });
          const optedStatuses = await cookieless(optedIn, '/health', 20);
          expect(optedStatuses.filter((status) => status !== 200)).toEqual([]);
          expect(await storedIds(optedIn)).toHaveLength(20);
        } finally {
          await optIn.cleanup();
        }
      });

      it('at maxSessions: a cookieless request still answers 200 (with a warning), a new login fails with ERR_QUOTA_EXCEEDED, a stored session keeps saving', async () => {
        const { app, logs } = await start({
          store: { ...backend.store, maxSessions: 5 },
          saveUninitialized: true,
        });
        const stored = Array.from({ length: 5 }, () => new Client(app));
        for (const user of stored) expect(await user.json('GET', '/views')).toEqual({ views: 1 });
        const ids = await storedIds(app);
        expect(ids).toHaveLength(5);

        // The store is full. A visitor who never asked for a session is not turned away.
        const visitor = new Client(app);
        const health = await visitor.request('GET', '/health');
        expect(health.statusCode).toBe(200);
        expect(health.json()).toEqual({ ok: true });
        const warning = logs.find(
          (line) => line.level === WARN && loggedCode(line) === 'ERR_QUOTA_EXCEEDED',
        );
        expect(warning).toMatchObject({ plugin: PLUGIN_NAME });
        expect(await storedIds(app)).toEqual(ids);
        // The session it was handed was never stored: its next request is a fresh visit.
        expect(await visitor.json('GET', '/peek')).toEqual({ views: null });

        // A login is a session the app asked for: refused, not silently dropped.
        const login = await new Client(app).request('POST', '/login');
        expect(login.statusCode).toBe(500);
        expect(
          logs.some((line) => line.level === ERROR && loggedCode(line) === 'ERR_QUOTA_EXCEEDED'),
        ).toBe(true);
        expect(await storedIds(app)).toEqual(ids);

        // The quota refuses new sessions only: those already stored keep saving.
        const [first, second] = stored as [Client, Client];
        expect(await first.json('GET', '/views')).toEqual({ views: 2 });
        expect(await first.json('GET', '/views')).toEqual({ views: 3 });
        expect(await second.json('GET', '/views')).toEqual({ views: 2 });
        expect(await storedIds(app)).toEqual(ids);
      });
    },
  );

  it('on a full disk (ENOSPC), a cookieless request still answers 200 with a warning, and a login still fails with ERR_NO_SPACE', async () => {
    const adapter = createFaultyAdapter();
    const { app, logs } = await start({
      store: { adapter, reapInterval: false },
      saveUninitialized: true,
    });
    adapter.inject({ kind: 'ENOSPC', operations: ['write'] });

    const visitor = new Client(app);
    const health = await visitor.request('GET', '/health');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ ok: true });
    const warning = logs.find((line) => line.level === WARN && loggedCode(line) === 'ERR_NO_SPACE');
    expect(warning).toMatchObject({ plugin: PLUGIN_NAME });
    expect(await storedIds(app)).toEqual([]);
    // Its next request, with the cookie it was given, answers too.
    expect((await visitor.request('GET', '/health')).statusCode).toBe(200);

    // A session with something in it that cannot be stored is a failure, as before.
    const login = await new Client(app).request('POST', '/login');
    expect(login.statusCode).toBe(500);
    expect(logs.some((line) => line.level === ERROR && loggedCode(line) === 'ERR_NO_SPACE')).toBe(
      true,
    );
    expect(await storedIds(app)).toEqual([]);
  });
});

describe('item 9: long session ids', () => {
  /** Each idGenerator, and how many UTF-8 bytes its ids have. */
  const generators: [string, () => string, number][] = [
    ['128 hex characters (randomBytes(64))', () => randomBytes(64).toString('hex'), 128],
    // 16 + 2 × 2,040 = 4,096 UTF-8 bytes in 2,056 characters: the limit counts bytes.
    [
      'exactly 4,096 UTF-8 bytes, most of them two-byte characters',
      () => randomBytes(8).toString('hex') + 'é'.repeat(2_040),
      4_096,
    ],
  ];

  describe.each(Object.keys(backends) as (keyof typeof backends)[])(
    'over the %s adapter',
    (kind) => {
      let backend: Backend;

      beforeEach(async () => {
        backend = await backends[kind]();
        return () => backend.cleanup();
      });

      it.each(generators)(
        'an idGenerator of %s keeps one session through a login and visits, in a file named from a digest',
        async (_name, idGenerator, bytes) => {
          const { app, client } = await start({ store: backend.store, idGenerator });

          expect(await client.json('POST', '/login')).toEqual({ user: 'ada', views: null });
          for (const views of [1, 2, 3]) {
            expect(await client.json('GET', '/views')).toEqual({ views });
          }
          expect(await client.json('POST', '/reload')).toEqual({ views: 3, user: 'ada' });

          const ids = await storedIds(app);
          expect(ids).toHaveLength(1);
          const id = ids[0] as string;
          expect(client.cookie?.startsWith(`${id}.`)).toBe(true);
          // The record keeps the id itself, whole, although its file is named from a digest.
          expect(Buffer.byteLength(id)).toBe(bytes);
          const file = app.fileSessionStore.sessionFile(id);
          expect(basename(file)).toMatch(/^s\.0[a-z2-7]{52}$/);
          expect(backend.exists(file)).toBe(true);
          expect(await backend.files()).toEqual([basename(file)]);

          // Logging out removes it.
          expect(await client.json('POST', '/logout')).toEqual({ ok: true });
          expect(await storedIds(app)).toEqual([]);
          expect(await backend.files()).toEqual([]);
        },
      );
    },
  );

  it.each([
    ['4,097 ASCII bytes', 'x'.repeat(4_097)],
    ['4,098 UTF-8 bytes in 2,049 characters', 'é'.repeat(2_049)],
    ['100,000 bytes', 'y'.repeat(100_000)],
  ])(
    'a cookie signed with the app secret whose id cannot be stored (%s) reads as no session: 200 and a fresh one',
    async (_name, forgedId) => {
      const { app, logs } = await start({
        store: { adapter: createMemoryAdapter(), reapInterval: false },
      });
      const forged = new Signer(SECRET, 'sha256').sign(forgedId);
      // The signature holds: @fastify/session hands the id to the store.
      expect(new Signer(SECRET, 'sha256').unsign(forged)).toMatchObject({
        valid: true,
        value: forgedId,
      });

      const client = new Client(app);
      client.cookie = forged;
      const peek = await client.request('GET', '/peek');
      expect(peek.statusCode).toBe(200);
      expect(peek.json()).toEqual({ views: null });

      client.cookie = forged;
      const views = await client.request('GET', '/views');
      expect(views.statusCode).toBe(200);
      expect(views.json()).toEqual({ views: 1 });
      const [fresh] = sessionCookies(views);
      expect(fresh?.value).toBeDefined();
      expect(fresh?.value).not.toBe(forged);
      // The fresh session is a real one, kept from then on.
      expect(await client.json('GET', '/views')).toEqual({ views: 2 });
      const ids = await storedIds(app);
      expect(ids).toHaveLength(1);
      expect(ids).not.toContain(forgedId);
      expect(logs.filter((line) => line.level >= ERROR)).toEqual([]);
    },
  );
});

describe('item 10: store calls without a callback, and callbacks that throw', () => {
  /** A session as @fastify/session hands it to the store. */
  function session(fields: Record<string, unknown>): Session {
    return {
      cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) },
      ...fields,
    } as Session;
  }

  /** A logger that keeps what it is given. */
  function recordingLogger() {
    const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const at =
      (level: string) =>
      (fields: Record<string, unknown>, message: string): void => {
        lines.push({ level, fields, message });
      };
    const logger: StoreLogger = {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
    };
    return { logger, lines };
  }

  /** The unhandled rejections of this process while the test runs. */
  let unhandled: unknown[];
  beforeEach(() => {
    unhandled = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    return () => {
      process.off('unhandledRejection', listener);
    };
  });

  it('get, set, touch and destroy without a callback return promises of the session and of nothing', async () => {
    const store = new FileSessionStore({ adapter: createMemoryAdapter(), reapInterval: false });
    stores.push(store);

    const saved = store.set('ada', session({ views: 1 }));
    expect(saved).toBeInstanceOf(Promise);
    expect(await saved).toBeUndefined();
    const read = store.get('ada');
    expect(read).toBeInstanceOf(Promise);
    expect(await read).toMatchObject({ views: 1 });
    expect(await store.touch('ada', session({ views: 1 }))).toBeUndefined();
    expect(await store.get('ada')).toMatchObject({ views: 1 });
    expect(await store.destroy('ada')).toBeUndefined();
    expect(await store.get('ada')).toBeNull();
    expect(await store.destroy('ada')).toBeUndefined();
    expect(await store.get('nobody')).toBeNull();

    await sleep(20);
    expect(unhandled).toEqual([]);
  });

  it('on a failing disk, a caller who awaits gets the SessionStoreError, and one who ignores the promise gets no unhandled rejection', async () => {
    const adapter = createFaultyAdapter();
    const { logger, lines } = recordingLogger();
    const store = new FileSessionStore({ adapter, reapInterval: false, logger });
    stores.push(store);
    await store.set('ada', session({ views: 1 }));
    adapter.inject({ kind: 'EIO' });

    const attempts: [string, () => Promise<unknown>][] = [
      ['get', () => store.get('ada')],
      ['set', () => store.set('ada', session({ views: 2 }))],
      ['touch', () => store.touch('ada', session({ views: 1 }))],
      ['destroy', () => store.destroy('ada')],
    ];
    for (const [method, attempt] of attempts) {
      const error = await attempt().then(
        () => new Error(`${method} resolved on a failing disk`),
        (reason: unknown) => reason,
      );
      expect(SessionStoreError.isInstance(error), `${method}: ${String(error)}`).toBe(true);
      expect((error as SessionStoreError).code, method).toBe('ERR_IO');
    }

    // The same calls, their promises dropped on the floor.
    const debugLines = () => lines.filter((line) => line.level === 'debug');
    const before = debugLines().length;
    for (const [, attempt] of attempts) void attempt();
    const deadline = Date.now() + 2_000;
    while (debugLines().length < before + 4 && Date.now() < deadline) await sleep(10);
    await sleep(50);
    expect(unhandled).toEqual([]);
    // Each ignored failure is logged at debug, and nothing louder is.
    const failures = debugLines().slice(before);
    expect(failures).toHaveLength(4);
    for (const line of failures) {
      expect(SessionStoreError.isInstance(line.fields.err)).toBe(true);
      expect((line.fields.err as SessionStoreError).code).toBe('ERR_IO');
    }
    expect(lines.filter((line) => line.level === 'error' || line.level === 'warn')).toEqual([]);
  });

  it('a callback that throws is logged at error, and becomes no unhandled rejection', async () => {
    const adapter = createFaultyAdapter();
    const { logger, lines } = recordingLogger();
    const store = new FileSessionStore({ adapter, reapInterval: false, logger });
    stores.push(store);
    await store.set('ada', session({ views: 1 }));

    let calls = 0;
    const thrower = () => {
      calls += 1;
      throw new Error('a callback that throws');
    };
    store.get('ada', thrower);
    await sleep(20);
    store.set('ada', session({ views: 2 }), thrower);
    await sleep(20);
    adapter.inject({ kind: 'EIO' });
    store.destroy('ada', thrower);
    const deadline = Date.now() + 2_000;
    while (calls < 3 && Date.now() < deadline) await sleep(10);
    await sleep(50);

    expect(calls).toBe(3);
    expect(unhandled).toEqual([]);
    const errors = lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(3);
    for (const line of errors) {
      expect((line.fields.err as Error).message).toBe('a callback that throws');
    }
  });

  // The fixture imports the package by name, so it runs the build (dist/): `pnpm test`
  // builds first; run `pnpm build` before running this file alone after changing src/.
  describe('in a process of its own (a crash shows as its exit code)', () => {
    const fixture = fileURLToPath(new URL('./fixtures/careless-store-calls.mjs', import.meta.url));

    async function run(scenario: string) {
      return promisify(execFile)(process.execPath, [fixture, scenario], {
        timeout: 20_000,
      }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code?: number | string; stdout?: string; stderr?: string }) => ({
          code: error.code,
          stdout: error.stdout ?? '',
          stderr: error.stderr ?? '',
        }),
      );
    }

    type Summary = {
      calls: number;
      logged: { level: string; message: string; code?: string; error?: string }[];
    };

    it('store.destroy(id) with no callback does not end the process', async () => {
      const { code, stdout, stderr } = await run('destroy-ignored');
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(stdout)).toMatchObject({ scenario: 'destroy-ignored', logged: [] });
    });

    it('a failing get, set, touch and destroy with no callback, ignored, do not end the process and are logged at debug', async () => {
      const { code, stdout, stderr } = await run('failures-ignored');
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const { logged } = JSON.parse(stdout) as Summary;
      expect(logged).toHaveLength(4);
      for (const line of logged) expect(line).toMatchObject({ level: 'debug', code: 'ERR_IO' });
    });

    it('callbacks that throw, after a success or a failure, do not end the process and are logged at error', async () => {
      const { code, stdout, stderr } = await run('callbacks-throw');
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const { calls, logged } = JSON.parse(stdout) as Summary;
      expect(calls).toBe(8);
      expect(logged).toHaveLength(8);
      for (const line of logged) {
        expect(line).toMatchObject({ level: 'error', error: 'a callback that throws' });
      }
    });
  });
});
