import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createSessionStore,
  ErrorCodes,
  type SessionStoreOptions,
  sessionKey,
} from '@sessionfs/core';
import { RedisServer } from '@sessionfs/test-redis-server';
import { createClient } from 'redis';
import { afterAll, expect, it } from 'vitest';
import { type ClientSideCacheOptions, createRedisAdapter } from '../src/index.js';
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

/** An adapter with client-side caching as given, under a fresh prefix that starts with `name`. */
function cachingAdapter(name: string, clientSideCache: boolean | ClientSideCacheOptions) {
  const prefix = `${name}-${randomUUID()}:`;
  return { adapter: createRedisAdapter({ url: server.url, prefix, clientSideCache }), prefix };
}

/** A store with its cache on (and `options`), over a {@link cachingAdapter}. */
function cachingStore(
  name: string,
  options: Partial<SessionStoreOptions> = {},
  clientSideCache: boolean | ClientSideCacheOptions = true,
) {
  const { adapter, prefix } = cachingAdapter(name, clientSideCache);
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

it('serves a cached session without a command to Redis while nobody changes it', async () => {
  const { store } = cachingStore('hits');
  try {
    await store.set('visitor', { views: 1 });
    const ran = await commandsDuring(async () => {
      for (let i = 0; i < 20; i += 1) expect(await store.get('visitor')).toEqual({ views: 1 });
      const sessions = await Promise.all(Array.from({ length: 50 }, () => store.get('visitor')));
      for (const session of sessions) expect(session).toEqual({ views: 1 });
    });
    expect(ran).toEqual({});
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
    // What it just saved, nobody else has changed since: no read.
    expect(ran).toEqual({ set: 20 });
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

it('forgets what it remembered once the connection is lost: a destroy meanwhile is seen after it reconnects', async () => {
  // Remembered for longer than the test runs: only the lost connection can make it forget.
  const { store, adapter, prefix } = cachingStore('dropped', {}, { ttl: 60_000 });
  try {
    await store.set('visitor', { views: 1 });
    expect(await store.get('visitor')).toEqual({ views: 1 });
    const client = adapter.client as unknown as EventEmitter & {
      sendCommand(args: string[]): Promise<unknown>;
    };
    const id = String(await client.sendCommand(['CLIENT', 'ID']));
    // Ready again after the handshake (bounded by the test's timeout); `once` would reject
    // at the client's report of the lost connection.
    const reconnected = new Promise((resolve) => client.once('ready', resolve));
    // In one go, so that Redis deletes the session with the store's connection already
    // closed: the report of the change is lost with it.
    await Promise.all([
      direct.sendCommand(['CLIENT', 'KILL', 'ID', id]),
      direct.sendCommand(['DEL', `${prefix}${sessionKey('visitor')}`]),
    ]);
    await reconnected;
    expect(await store.get('visitor')).toBeNull();
  } finally {
    await store.close();
  }
});

it('forgets everything once Redis reports that it was flushed', async () => {
  // Remembered for longer than the test runs: only the report can make it forget.
  const { store } = cachingStore('flushed', {}, { ttl: 60_000 });
  try {
    await store.set('visitor', { views: 1 });
    expect(await store.get('visitor')).toEqual({ views: 1 });
    await direct.flushDb();
    // Redis reports a flush as it runs it, and may send the flusher's reply first: the
    // report is not always here yet for a read that starts at once.
    await expect.poll(() => store.get('visitor'), { timeout: 2_000, interval: 10 }).toBeNull();
  } finally {
    await store.close();
  }
});

it('remembers at most maxEntries sessions, the least recently used going first', async () => {
  const { adapter } = cachingAdapter('bounded', { maxEntries: 2 });
  try {
    for (const key of ['s.a', 's.b', 's.c']) await adapter.write(key, new Uint8Array([1]));
    expect(await commandsDuring(() => adapter.stat('s.c'))).toEqual({});
    // Dropped to make room for s.c: asked of Redis, by the script (and what it runs).
    expect(await commandsDuring(() => adapter.stat('s.a'))).toMatchObject({ evalsha: 1 });
  } finally {
    await adapter.close();
  }
});

it('asks Redis again about a session remembered for longer than ttl', async () => {
  const { adapter } = cachingAdapter('ttl', { ttl: 100 });
  try {
    await adapter.write('s.a', new Uint8Array([1]));
    expect(await commandsDuring(() => adapter.stat('s.a'))).toEqual({});
    await sleep(150);
    expect(await commandsDuring(() => adapter.stat('s.a'))).toMatchObject({ evalsha: 1 });
    // Learned again from that reply.
    expect(await commandsDuring(() => adapter.stat('s.a'))).toEqual({});
  } finally {
    await adapter.close();
  }
});

it('refuses clientSideCache over a client it did not create, and bounds that are not numbers it can keep', () => {
  const client = createClient({ url: server.url });
  for (const options of [
    { client, clientSideCache: true },
    { url: server.url, clientSideCache: { maxEntries: 0 } },
    { url: server.url, clientSideCache: { maxEntries: 1.5 } },
    { url: server.url, clientSideCache: { ttl: 0 } },
  ]) {
    expect(() => createRedisAdapter(options)).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTION }),
    );
  }
});
