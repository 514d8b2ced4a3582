// What operators' tools use: looking at every record (`inspect`, `inspectKey`) without
// changing one, writing a session with a given expiry (`set`/`add` with `expiresAt`), and
// a reap that reports progress and stops when asked.
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createMemoryAdapter } from '@sessionfs/adapter-memory';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import type { FsAdapter } from '@sessionfs/core';
import { sessionKey } from '@sessionfs/core';
import type { CleanupOptions } from '@sessionfs/core/adapter';
import { describe, expect, it } from 'vitest';
import {
  adapters,
  collect,
  fastifySession,
  HOUR,
  openStore,
  tempRoot,
  virtualClock,
} from './helpers.js';

/** Every key in the adapter with its bytes: what must not change while a store looks. */
async function snapshot(adapter: FsAdapter): Promise<Map<string, string>> {
  const keys = (await collect(adapter.list(''))).sort();
  const entries = new Map<string, string>();
  for (const key of keys) {
    const value = await adapter.read(key);
    entries.set(key, `${value?.expiresAt}:${Buffer.from(value?.data ?? []).toString('base64')}`);
  }
  return entries;
}

const LONG_ID = `long-${'x'.repeat(300)}`;

describe.each(adapters)('inspection over the %s adapter', (_, createAdapter) => {
  const setUp = async () => {
    const clock = virtualClock();
    const adapter = await createAdapter();
    const store = openStore({ adapter, now: clock.now });
    await store.set('live', fastifySession(clock.now(), { user: 'ann' }));
    await store.set('soon-expired', fastifySession(clock.now(), { user: 'bob' }, 1_000));
    await store.set(LONG_ID, fastifySession(clock.now(), { user: 'cid' }));
    // Garbage under a session key: `get` would set it aside.
    await adapter.write(sessionKey('garbage'), Buffer.from('not a record'));
    clock.advance(2_000);
    return { clock, adapter, store };
  };

  it('lists every record with its state, size and expiry, and changes nothing', async () => {
    const { clock, adapter, store } = await setUp();
    const before = await snapshot(adapter);
    const quick = await collect(store.inspect());
    const full = await collect(store.inspect({ sessions: true }));
    expect(await snapshot(adapter)).toEqual(before);

    const byId = new Map(full.map((record) => [record.id, record]));
    expect(byId.get('live')).toMatchObject({
      state: 'live',
      expiresAt: clock.now() - 2_000 + HOUR,
      session: {
        user: 'ann',
        cookie: { expires: new Date(clock.now() - 2_000 + HOUR).toISOString() },
      },
    });
    expect(byId.get('soon-expired')).toMatchObject({ state: 'expired', session: { user: 'bob' } });
    expect(byId.get(LONG_ID)).toMatchObject({ state: 'live', session: { user: 'cid' } });
    expect(byId.get('garbage')).toMatchObject({ state: 'corrupt', expiresAt: null });
    expect(byId.get('garbage')?.reason).toBeTruthy();
    for (const record of full) {
      const value = await adapter.read(record.key);
      expect(record.size).toBe(value?.size);
    }

    // Without `sessions`, the same records and states, but no session is decoded.
    expect(quick.map((record) => record.key).sort()).toEqual(
      full.map((record) => record.key).sort(),
    );
    for (const record of quick) {
      expect(record.session).toBeUndefined();
      if (record.id !== 'garbage') expect(record.state).toBe(byId.get(record.id)?.state);
    }
    // Still there for `get`, which drops the expired one and sets the garbage aside.
    expect(await store.get('soon-expired')).toBeNull();
    expect(await store.get('garbage')).toBeNull();
    expect(await snapshot(adapter)).not.toEqual(before);
  });

  it('looks at one record by key, a record set aside too, and finds none where none is', async () => {
    const { adapter, store } = await setUp();
    expect(await store.inspectKey(sessionKey('nobody'))).toBeNull();
    expect(await store.inspectKey(sessionKey(LONG_ID), { sessions: true })).toMatchObject({
      id: LONG_ID,
      state: 'live',
      session: { user: 'cid' },
    });
    await store.get('garbage');
    const [aside] = await collect(adapter.list('corrupt.'));
    expect(aside).toBeDefined();
    expect(await store.inspectKey(aside as string, { sessions: true })).toMatchObject({
      id: 'garbage',
      state: 'corrupt',
    });
  });

  it('reports a record sealed with a key it lacks as unreadable, and leaves it', async () => {
    const { clock, adapter } = await setUp();
    const key = randomBytes(32).toString('hex');
    const sealing = openStore({ adapter, now: clock.now, encryption: { keys: [key] } });
    await sealing.set('sealed', fastifySession(clock.now(), { secret: 'token' }));
    const plain = openStore({ adapter, now: clock.now });
    const before = await snapshot(adapter);
    expect(await plain.inspectKey(sessionKey('sealed'), { sessions: true })).toMatchObject({
      state: 'unreadable',
      reason: 'sealed with a key the store was not given',
    });
    expect(await snapshot(adapter)).toEqual(before);
    expect(await sealing.inspectKey(sessionKey('sealed'), { sessions: true })).toMatchObject({
      state: 'live',
      session: { secret: 'token' },
    });
  });

  it('counts records expired or not, and the records set aside', async () => {
    const { store } = await setUp();
    expect(await store.count()).toBe(4);
    expect((await store.leftovers()).setAside).toBe(0);
    await store.get('garbage');
    expect(await store.count()).toBe(3);
    expect((await store.leftovers()).setAside).toBe(1);
  });

  it('writes a session with the expiry it is given, cookie or not', async () => {
    const { clock, store } = await setUp();
    const at = clock.now() + 5 * HOUR;
    await store.set('plain', { user: 'dan' }, { expiresAt: at });
    await store.set('cookie', fastifySession(clock.now(), { user: 'eve' }), { expiresAt: at });
    expect(await store.inspectKey(sessionKey('plain'))).toMatchObject({ expiresAt: at });
    expect(await store.get('cookie')).toMatchObject({
      cookie: { expires: new Date(at).toISOString() },
    });
    clock.advance(5 * HOUR);
    expect(await store.get('plain')).toBeNull();
    expect(await store.get('cookie')).toBeNull();
  });

  it('adds a session only where none is stored, expired or not', async () => {
    const { clock, store } = await setUp();
    const at = clock.now() + HOUR;
    expect(await store.add('live', { user: 'mallory' }, { expiresAt: at })).toBe(false);
    expect(await store.add('soon-expired', { user: 'mallory' }, { expiresAt: at })).toBe(false);
    expect(await store.get('live')).toMatchObject({ user: 'ann' });
    expect(await store.add('new', { user: 'fay' }, { expiresAt: at })).toBe(true);
    expect(await store.get('new')).toMatchObject({ user: 'fay' });
  });

  it('reaps with progress, and stops when its signal aborts, removing no more', async () => {
    const { clock, store } = await setUp();
    for (let i = 0; i < 40; i += 1) {
      await store.set(`old-${i}`, { n: i }, { expiresAt: clock.now() + 1 });
    }
    clock.advance(10);
    const stopped = new AbortController();
    stopped.abort();
    const none = await store.reap({ signal: stopped.signal });
    expect(none).toMatchObject({ removed: 0, stopped: true });
    expect(await store.count()).toBe(44);

    const seen: number[] = [];
    const result = await store.reap({ onProgress: ({ removed }) => seen.push(removed) });
    expect(result).toMatchObject({ removed: 41, stopped: false });
    expect(seen.at(-1)).toBe(41);
    expect(await store.count()).toBe(3);
  });
});

describe('leftovers of interrupted writes (node adapter)', () => {
  it('counts the temp files a dead writer left without removing them; a reap removes them', async () => {
    const root = await tempRoot();
    const dir = join(root, 'sessions');
    const inner = createNodeAdapter({ dir });
    // Every temp file counts as old (its age is its change time, which a test cannot set;
    // a cutoff in the future, since a file changed this millisecond is not older than 0 ms).
    const adapter: FsAdapter = Object.assign(Object.create(inner) as FsAdapter, {
      cleanup: (_olderThanMs: number, options?: CleanupOptions) => inner.cleanup(-60_000, options),
    });
    const store = openStore({ adapter });
    await store.set('someone', { user: 'gil' });
    const temp = join(dir, `.${sessionKey('someone')}.${'0'.repeat(24)}.tmp`);
    await writeFile(temp, 'half a record');
    expect((await store.leftovers()).interruptedWrites).toBe(1);
    expect(await readdir(dir)).toContain(basename(temp));
    expect((await store.reap()).leftovers).toBe(1);
    expect(await readdir(dir)).not.toContain(basename(temp));
    expect(await store.get('someone')).toMatchObject({ user: 'gil' });
  });

  it('is null over an adapter that leaves none (no `cleanup`)', async () => {
    const inner = createMemoryAdapter();
    const adapter = new Proxy(inner, {
      get: (target, property) =>
        property === 'cleanup' ? undefined : Reflect.get(target, property, target),
    });
    const store = openStore({ adapter });
    expect((await store.leftovers()).interruptedWrites).toBeNull();
  });
});
