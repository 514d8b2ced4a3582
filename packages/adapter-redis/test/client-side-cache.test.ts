import { randomUUID } from 'node:crypto';
import {
  createSessionStore,
  ErrorCodes,
  hasErrorCode,
  type SessionStoreOptions,
  sessionKey,
} from '@sessionfs/core';
import { RedisServer } from '@sessionfs/test-redis-server';
import { createClient } from 'redis';
import { afterAll, expect, it } from 'vitest';
import { createRedisAdapter } from '../src/index.js';
import { expectEachReadToSeeTheOtherWrite, twoInstances } from './two-instances.js';

const server = await RedisServer.start();
afterAll(() => server.destroy());
const direct = await createClient({ url: server.url }).connect();
afterAll(() => direct.destroy());

/** How many times Redis has run each command so far, by lowercase name. */
async function commandCounts(): Promise<Record<string, number>> {
  const info = await direct.info('commandstats');
  const counts: Record<string, number> = {};
  for (const [, name, calls] of info.matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)) {
    counts[name as string] = Number(calls);
  }
  return counts;
}

/** The commands Redis ran while `work` ran, by name, those it ran 0 times left out. */
async function commandsDuring(work: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await commandCounts();
  await work();
  const after = await commandCounts();
  const ran: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    const during = calls - (before[name] ?? 0) - (name === 'info' ? 1 : 0);
    if (during > 0) ran[name] = during;
  }
  return ran;
}

/**
 * A store with its cache on, over an adapter with client-side caching, under a prefix of
 * its own that starts with `name`.
 */
function cachingStore(name: string, options: Partial<SessionStoreOptions> = {}) {
  const prefix = `${name}-${randomUUID()}:`;
  const adapter = createRedisAdapter({ url: server.url, prefix, clientSideCache: true });
  const store = createSessionStore({
    adapter,
    cache: { mode: 'shared' },
    reapInterval: false,
    ...options,
  });
  return { store, adapter, prefix };
}

it('shows each instance the other instance’s last save or destroy on its very next read, 200 times in a row', async () => {
  const stores = twoInstances({ url: server.url }, `two-${randomUUID()}:`);
  try {
    await expectEachReadToSeeTheOtherWrite(stores, 200, ['visitor-1', 'visitor-2']);
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
}, 30_000);

it('confirms a cached session without reading it from Redis: concurrent checks share one PING', async () => {
  const { store } = cachingStore('hits');
  try {
    await store.set('visitor', { views: 1 });
    const concurrent = await commandsDuring(() =>
      Promise.all(Array.from({ length: 50 }, () => store.get('visitor'))).then((sessions) => {
        for (const session of sessions) expect(session).toEqual({ views: 1 });
      }),
    );
    expect(concurrent).toEqual({ ping: 1 });
    // One after the other, each check waits for a reply of its own: a PING, never a read.
    const sequential = await commandsDuring(async () => {
      for (let i = 0; i < 20; i += 1) expect(await store.get('visitor')).toEqual({ views: 1 });
    });
    expect(sequential).toEqual({ ping: 20 });
  } finally {
    await store.close();
  }
});

it('serves a changing session with one command a request: its save', async () => {
  const { store } = cachingStore('counter');
  try {
    await store.set('visitor', { views: 0 });
    const ran = await commandsDuring(async () => {
      for (let views = 1; views <= 20; views += 1) {
        const session = (await store.get('visitor')) as { views: number };
        expect(session.views).toBe(views - 1);
        await store.set('visitor', { views });
      }
    });
    // Each read of the session it just saved waits for a PING; nothing reads the value.
    expect(ran).toEqual({ set: 20, ping: 20 });
  } finally {
    await store.close();
  }
});

it('still checks the expiry of a remembered session, whatever Redis holds', async () => {
  let clock = Date.now();
  const { store } = cachingStore('expiry', { now: () => clock });
  try {
    await store.set('visitor', { cookie: { expires: new Date(clock + 60_000).toISOString() } });
    expect(await store.get('visitor')).not.toBeNull();
    clock += 61_000;
    // Redis still holds it (its clock is a minute behind this store's).
    expect(await store.get('visitor')).toBeNull();
  } finally {
    await store.close();
  }
});

it('never serves what it remembered from before a lost connection: a destroy meanwhile is seen', async () => {
  const { store, adapter, prefix } = cachingStore('dropped');
  try {
    await store.set('visitor', { views: 1 });
    expect(await store.get('visitor')).toEqual({ views: 1 });
    const client = adapter.client as unknown as { sendCommand(args: string[]): Promise<unknown> };
    const id = String(await client.sendCommand(['CLIENT', 'ID']));
    // In one go, so that Redis deletes the session with the store's connection already
    // closed: the report of the change is lost with it.
    await Promise.all([
      direct.sendCommand(['CLIENT', 'KILL', 'ID', id]),
      direct.sendCommand(['DEL', `${prefix}${sessionKey('visitor')}`]),
    ]);
    // Failing while the client reconnects (never served), then missing.
    await expect
      .poll(
        () =>
          store.get('visitor').then(
            (session) => (session === null ? 'missing' : 'served'),
            (error: unknown) =>
              hasErrorCode(error, ErrorCodes.UNAVAILABLE) ? 'unavailable' : String(error),
          ),
        { timeout: 5_000, interval: 20 },
      )
      .toBe('missing');
  } finally {
    await store.close();
  }
});

it('remembers at most maxEntries sessions, the least recently used going first', async () => {
  const adapter = createRedisAdapter({
    url: server.url,
    prefix: `bounded-${randomUUID()}:`,
    clientSideCache: { maxEntries: 2 },
  });
  try {
    for (const key of ['s.a', 's.b', 's.c']) await adapter.write(key, new Uint8Array([1]));
    expect(await commandsDuring(() => adapter.stat('s.c'))).toEqual({ ping: 1 });
    // Dropped to make room for s.c: asked of Redis, by the script (and what it runs).
    expect(await commandsDuring(() => adapter.stat('s.a'))).toMatchObject({ evalsha: 1 });
  } finally {
    await adapter.close();
  }
});

it('refuses clientSideCache over a client it did not create, and a maxEntries that is not a count', () => {
  const client = createClient({ url: server.url });
  for (const options of [
    { client, clientSideCache: true },
    { url: server.url, clientSideCache: { maxEntries: 0 } },
    { url: server.url, clientSideCache: { maxEntries: 1.5 } },
  ]) {
    expect(() => createRedisAdapter(options)).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTION }),
    );
  }
});
