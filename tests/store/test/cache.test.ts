import { createMemoryAdapter } from '@sessionfs/adapter-memory';
import type { FsAdapter } from '@sessionfs/core';
import { describe, expect, it } from 'vitest';
import {
  fastifySession,
  instrument,
  nodeAdapter,
  openStore,
  storeProcess,
  virtualClock,
  withCheapWrites,
} from './helpers.js';

const modes = [
  ['off', false],
  ['shared', { mode: 'shared' }],
  ['exclusive', { mode: 'exclusive' }],
] as const;

describe.each(modes)('with the cache %s', (_, cache) => {
  it('never hands out an object that can change what the store holds', async () => {
    const store = openStore({ adapter: createMemoryAdapter(), cache });
    const session = { user: { name: 'ada', roles: ['admin'] } };
    await store.set('id', session);
    session.user.name = 'mallory';
    session.user.roles.push('root');
    const first = await store.get('id');
    expect(first).toEqual({ user: { name: 'ada', roles: ['admin'] } });
    (first as { user: { name: string } }).user.name = 'eve';
    const second = await store.get('id');
    expect(second).toEqual({ user: { name: 'ada', roles: ['admin'] } });
    expect(second).not.toBe(first);
  });

  it('keeps two stores over two directories apart', async () => {
    const one = openStore({ adapter: createMemoryAdapter(), cache });
    const two = openStore({ adapter: createMemoryAdapter(), cache });
    await one.set('same-id', { store: 1 });
    expect(await two.get('same-id')).toBeNull();
    await two.set('same-id', { store: 2 });
    expect(await one.get('same-id')).toEqual({ store: 1 });
  });
});

describe('the cache', () => {
  it('serves exclusive-mode hits without touching the adapter', async () => {
    const spy = instrument(createMemoryAdapter());
    const store = openStore({ adapter: spy.adapter, cache: { mode: 'exclusive' } });
    await store.set('id', { n: 1 });
    spy.reset();
    for (let i = 0; i < 10; i += 1) expect(await store.get('id')).toEqual({ n: 1 });
    expect(spy.calls.read + spy.calls.stat).toBe(0);
  });

  it.each([
    ['an adapter', (adapter: FsAdapter) => adapter],
    ['an adapter whose writes are cheap (cheapWrites)', withCheapWrites],
  ])('confirms shared-mode hits with a stat instead of a read, over %s', async (_, adapterOf) => {
    const spy = instrument(adapterOf(createMemoryAdapter()));
    const store = openStore({ adapter: spy.adapter, cache: { mode: 'shared' } });
    await store.set('id', { n: 1 });
    await store.get('id');
    spy.reset();
    for (let i = 0; i < 10; i += 1) expect(await store.get('id')).toEqual({ n: 1 });
    expect(spy.calls.read).toBe(0);
    expect(spy.calls.stat).toBe(10);
  });

  it('in shared mode, sees another store’s writes and deletes on the next get', async () => {
    const adapter = createMemoryAdapter();
    const mine = openStore({ adapter, cache: { mode: 'shared' } });
    const theirs = openStore({ adapter, cache: { mode: 'shared' } });
    await mine.set('id', { v: 1 });
    expect(await mine.get('id')).toEqual({ v: 1 });
    await theirs.set('id', { v: 2 });
    expect(await mine.get('id')).toEqual({ v: 2 });
    await theirs.destroy('id');
    expect(await mine.get('id')).toBeNull();
  });

  it('in shared mode, stays valid when another store only moves the expiry', async () => {
    const clock = virtualClock();
    const adapter = createMemoryAdapter();
    const spy = instrument(adapter);
    const mine = openStore({ adapter: spy.adapter, now: clock.now, cache: { mode: 'shared' } });
    const theirs = openStore({ adapter, now: clock.now });
    await mine.set('id', fastifySession(clock.now(), { v: 1 }, 10_000));
    await mine.get('id');
    clock.advance(9_000);
    const renewed = fastifySession(clock.now(), { v: 1 }, 10_000);
    await theirs.touch('id', renewed);
    spy.reset();
    clock.advance(5_000);
    expect(await mine.get('id')).toEqual(renewed);
    expect(spy.calls.read).toBe(0);
  });

  it('is bounded by count', async () => {
    const spy = instrument(createMemoryAdapter());
    const store = openStore({ adapter: spy.adapter, cache: { mode: 'exclusive', maxEntries: 10 } });
    for (let i = 0; i < 100; i += 1) await store.set(`s${i}`, { i });
    spy.reset();
    for (let i = 90; i < 100; i += 1) await store.get(`s${i}`);
    expect(spy.calls.read).toBe(0);
    await store.get('s0');
    expect(spy.calls.read).toBe(1);
  });

  it('is bounded by bytes', async () => {
    const spy = instrument(createMemoryAdapter());
    const store = openStore({
      adapter: spy.adapter,
      cache: { mode: 'exclusive', maxBytes: 8_192 },
    });
    await store.set('huge', { blob: 'x'.repeat(10_000) });
    for (let i = 0; i < 20; i += 1) await store.set(`s${i}`, { blob: 'y'.repeat(1_000) });
    spy.reset();
    await store.get('huge');
    await store.get('s0');
    expect(spy.calls.read).toBe(2);
    await store.get('s19');
    expect(spy.calls.read).toBe(2);
  });

  it('does not serve an expired session from the cache', async () => {
    const clock = virtualClock();
    const store = openStore({
      adapter: createMemoryAdapter(),
      now: clock.now,
      cache: { mode: 'exclusive' },
    });
    await store.set('id', fastifySession(clock.now(), {}, 1_000));
    expect(await store.get('id')).not.toBeNull();
    clock.advance(1_000);
    expect(await store.get('id')).toBeNull();
  });
});

describe.each(['none', 'shared'] as const)(
  'two processes over one directory (cache %s)',
  (cacheMode) => {
    it('see each other’s writes and deletes at once', async () => {
      const adapter = await nodeAdapter();
      const here = openStore({ adapter, cache: cacheMode === 'none' ? false : { mode: 'shared' } });
      const there = storeProcess(adapter.dir, cacheMode);
      try {
        await here.set('visitor', { views: 1 });
        expect(await there.send({ op: 'get', id: 'visitor' })).toEqual({
          ok: true,
          result: { views: 1 },
        });
        expect(await here.get('visitor')).toEqual({ views: 1 });

        expect((await there.send({ op: 'set', id: 'visitor', session: { views: 2 } })).ok).toBe(
          true,
        );
        expect(await here.get('visitor')).toEqual({ views: 2 });

        await here.set('visitor', { views: 3 });
        expect((await there.send({ op: 'get', id: 'visitor' })).result).toEqual({ views: 3 });

        // Setting back what this process last saw must not be mistaken for "unchanged".
        expect((await there.send({ op: 'set', id: 'visitor', session: { views: 2 } })).ok).toBe(
          true,
        );
        await here.set('visitor', { views: 3 });
        expect((await there.send({ op: 'get', id: 'visitor' })).result).toEqual({ views: 3 });

        expect((await there.send({ op: 'destroy', id: 'visitor' })).ok).toBe(true);
        expect(await here.get('visitor')).toBeNull();
        expect((await there.send({ op: 'length' })).result).toBe(0);
      } finally {
        await there.stop();
      }
    });
  },
);
