// Two real processes of server.mjs on two loopback ports, over one directory (the node
// adapter) and over one Redis (the Redis adapter, a redis-server of the test's own): a
// visitor logs in on A and is logged in on B, counts on B and sees it on A, logs out on
// A and is logged out on B.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RedisServer } from '@sessionfs/test-redis-server';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Instance, Visitor } from './instances.js';

const run = promisify(execFile);

/** Shared storage for both instances, and a look at what it holds. */
interface Backend {
  env: Record<string, string>;
  /** How many sessions the storage holds now. */
  stored(): Promise<number>;
  cleanup(): Promise<void>;
}

const backends: Record<'file' | 'redis', () => Promise<Backend>> = {
  async file() {
    const root = await mkdtemp(join(tmpdir(), 'sessionfs-two-instances-'));
    const dir = join(root, 'sessions');
    return {
      env: { SESSION_BACKEND: 'file', SESSIONS_DIR: dir },
      // Dot-names are the store's own bookkeeping, not sessions.
      stored: async () =>
        (await readdir(dir).catch(() => [])).filter((name) => !name.startsWith('.')).length,
      cleanup: () => rm(root, { recursive: true, force: true }),
    };
  },
  async redis() {
    const server = await RedisServer.start();
    return {
      env: { SESSION_BACKEND: 'redis', REDIS_URL: server.url },
      stored: async () => {
        const { stdout } = await run('redis-cli', ['-p', String(server.port), 'dbsize'], {
          timeout: 5_000,
        });
        return Number(stdout.trim());
      },
      cleanup: () => server.destroy(),
    };
  },
};

afterAll(async () => {
  await Promise.allSettled([...Instance.running].map((instance) => instance.stop()));
});

describe.each(Object.keys(backends) as (keyof typeof backends)[])('over %s', (kind) => {
  let backend: Backend | undefined;
  afterEach(async () => {
    await Promise.allSettled([...Instance.running].map((instance) => instance.stop()));
    await backend?.cleanup();
  });

  it('shares one session between the two instances: log in, count, log out', async () => {
    backend = await backends[kind]();
    const [a, b] = await Promise.all([Instance.start(backend.env), Instance.start(backend.env)]);
    expect(a.url).not.toBe(b.url);
    const visitor = new Visitor();

    expect((await visitor.request(a, 'GET', '/')).body).toMatchObject({ user: null });
    expect(await backend.stored()).toBe(0);

    const login = await visitor.request(a, 'POST', '/login', { name: 'Ada' });
    expect(login).toMatchObject({ status: 200, body: { servedBy: a.pid, user: 'Ada' } });
    expect(visitor.cookie).toBeDefined();
    expect(await backend.stored()).toBe(1);

    // Logged in on B, which never saw the login.
    expect(await visitor.request(b, 'GET', '/')).toMatchObject({
      status: 200,
      body: { servedBy: b.pid, user: 'Ada', visits: 0 },
    });

    // Changed on B, seen on A; and the other way round.
    await visitor.request(b, 'POST', '/visit');
    expect((await visitor.request(b, 'POST', '/visit')).body).toMatchObject({
      servedBy: b.pid,
      visits: 2,
    });
    expect((await visitor.request(a, 'GET', '/')).body).toMatchObject({
      servedBy: a.pid,
      user: 'Ada',
      visits: 2,
    });
    expect((await visitor.request(a, 'POST', '/visit')).body).toMatchObject({ visits: 3 });
    expect((await visitor.request(b, 'GET', '/')).body).toMatchObject({ user: 'Ada', visits: 3 });

    // Logged out on A: the session is gone from the shared storage, so B has no session
    // for the visitor, nor for anyone who kept the old cookie.
    const oldCookie = visitor.cookie;
    expect(await visitor.request(a, 'POST', '/logout')).toMatchObject({
      status: 200,
      body: { servedBy: a.pid, user: null },
    });
    expect(visitor.cookie).toBeUndefined();
    expect(await backend.stored()).toBe(0);
    expect((await visitor.request(b, 'GET', '/')).body).toMatchObject({
      servedBy: b.pid,
      user: null,
    });
    const replay = new Visitor();
    replay.cookie = oldCookie;
    expect((await replay.request(b, 'GET', '/')).body).toMatchObject({ user: null, visits: 0 });
    expect(await replay.request(b, 'POST', '/visit')).toMatchObject({ status: 401 });

    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  });
});
