import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFaultyAdapter, createMemoryAdapter } from '@sessionfs/adapter-memory';
import { ErrorCodes, SessionStoreError } from '@sessionfs/core';
import session, { type SessionData } from 'express-session';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../src/index.js';

/** A stored session as express-session hands it over, expiring `maxAge` ms from now. */
function sessionData(maxAge: number, fields: Partial<SessionData> = {}): SessionData {
  const expires = new Date(Date.now() + maxAge).toISOString();
  return { cookie: { originalMaxAge: maxAge, expires }, ...fields } as unknown as SessionData;
}

const quietLogger = { warn: () => {}, error: () => {}, debug: () => {} };

describe('FileStore', () => {
  let root: string;
  const stores: FileStore[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sessionfs-express-store-'));
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await rm(root, { recursive: true, force: true });
  });

  function track(store: FileStore): FileStore {
    stores.push(store);
    return store;
  }

  it('is an express-session Store, so an EventEmitter with regenerate, load and createSession', () => {
    const store = track(new FileStore({ adapter: createMemoryAdapter() }));
    expect(store).toBeInstanceOf(session.Store);
    expect(store).toBeInstanceOf(EventEmitter);
    for (const method of ['regenerate', 'load', 'createSession', 'on'] as const) {
      expect(typeof store[method]).toBe('function');
    }
  });

  it('opens over a directory given as a string or as { dir }, or over an adapter', async () => {
    const byString = track(new FileStore(join(root, 'a')));
    const byDir = track(new FileStore({ dir: join(root, 'b') }));
    const byAdapter = track(new FileStore({ adapter: createMemoryAdapter() }));
    expect(byString.dir).toBe(join(root, 'a'));
    expect(byDir.dir).toBe(join(root, 'b'));
    for (const store of [byString, byDir, byAdapter]) {
      await store.set('id-1', sessionData(60_000, { views: 1 }));
      expect((await store.get('id-1'))?.views).toBe(1);
    }
  });

  it('refuses options with neither or both of dir and adapter', () => {
    expect(() => new FileStore({} as never)).toThrow(/exactly one of `dir`/);
    expect(() => new FileStore({ dir: root, adapter: createMemoryAdapter() } as never)).toThrow(
      SessionStoreError,
    );
  });

  it('answers with promises when no callback is given', async () => {
    const store = track(new FileStore({ adapter: createMemoryAdapter() }));
    await expect(store.set('p', sessionData(60_000, { views: 3 }))).resolves.toBeUndefined();
    expect((await store.get('p'))?.views).toBe(3);
    await expect(store.touch('p', sessionData(120_000))).resolves.toBeUndefined();
    expect(await store.length()).toBe(1);
    expect(Object.keys(await store.all())).toEqual(['p']);
    await expect(store.destroy('p')).resolves.toBeUndefined();
    expect(await store.get('p')).toBeNull();
    await store.set('q', sessionData(60_000, { views: 1 }));
    expect(await store.clear()).toBe(1);
    expect(await store.length()).toBe(0);
  });

  it('calls each callback once, with null and the answer', async () => {
    const store = track(new FileStore({ adapter: createMemoryAdapter() }));
    const calls: unknown[][] = [];
    const call =
      <A extends unknown[]>(name: string) =>
      (...args: A) =>
        calls.push([name, ...args]);
    await new Promise<void>((resolve) =>
      store.set('c', sessionData(60_000, { views: 2 }), (error) => {
        call('set')(error);
        resolve();
      }),
    );
    await new Promise<void>((resolve) =>
      store.get('c', (error, found) => {
        call('get')(error, found?.views);
        resolve();
      }),
    );
    await new Promise<void>((resolve) =>
      store.all((error, all) => {
        call('all')(error, Object.keys(all ?? {}));
        resolve();
      }),
    );
    await new Promise<void>((resolve) =>
      store.length((error, length) => {
        call('length')(error, length);
        resolve();
      }),
    );
    await new Promise<void>((resolve) =>
      store.destroy('c', (error) => {
        call('destroy')(error);
        resolve();
      }),
    );
    await new Promise<void>((resolve) =>
      store.clear((error) => {
        call('clear')(error);
        resolve();
      }),
    );
    expect(calls).toEqual([
      ['set', null],
      ['get', null, 2],
      ['all', null, ['c']],
      ['length', null, 1],
      ['destroy', null],
      ['clear', null],
    ]);
  });

  it('touch moves the expiry only: it changes no field and creates nothing', async () => {
    const store = track(new FileStore({ adapter: createMemoryAdapter(), reapInterval: false }));
    await store.set('t', sessionData(300, { views: 1 }));
    await store.touch('t', sessionData(60_000, { views: 99 }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await store.get('t'))?.views).toBe(1);
    await store.touch('never-stored', sessionData(60_000, { views: 5 }));
    expect(await store.get('never-stored')).toBeNull();
  });

  it('all() and length() cover thousands of sessions made through the engine', async () => {
    const store = track(new FileStore({ dir: join(root, 'many'), reapInterval: false }));
    const count = 2_000;
    const batch = 200;
    for (let start = 0; start < count; start += batch) {
      const writes: Promise<void>[] = [];
      for (let n = start; n < start + batch; n += 1) {
        writes.push(store.engine.set(`session-${n}`, sessionData(60_000, { views: n })));
      }
      await Promise.all(writes);
    }
    // One session that already expired: neither counted nor listed.
    await store.engine.set('expired', sessionData(1));
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(await store.length()).toBe(count);
    const all = await store.all();
    const ids = Object.keys(all);
    expect(ids).toHaveLength(count);
    expect(all['session-1234']?.views).toBe(1234);
    expect(all.expired).toBeUndefined();
    const viaCallback = await new Promise<number | undefined>((resolve) =>
      store.length((_error, length) => resolve(length)),
    );
    expect(viaCallback).toBe(count);
  });

  it('all() keeps an id such as __proto__ as an ordinary key', async () => {
    const store = track(new FileStore({ adapter: createMemoryAdapter() }));
    await store.set('__proto__', sessionData(60_000, { views: 7 }));
    const all = await store.all();
    expect(Object.keys(all)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(all, '__proto__')?.value.views).toBe(7);
  });

  describe('connect and disconnect', () => {
    const unavailable = () => new SessionStoreError(ErrorCodes.UNAVAILABLE, 'backend down');

    function storeWithEvents() {
      const adapter = createFaultyAdapter();
      const store = track(new FileStore({ adapter, logger: quietLogger }));
      const events: string[] = [];
      store.on('disconnect', () => events.push('disconnect'));
      store.on('connect', () => events.push('connect'));
      return { adapter, store, events };
    }

    it('emits disconnect once on ERR_UNAVAILABLE, and connect on the next success', async () => {
      const { adapter, store, events } = storeWithEvents();
      adapter.inject({ kind: 'throw', error: unavailable() });
      await expect(store.get('a')).rejects.toMatchObject({ code: ErrorCodes.UNAVAILABLE });
      await expect(store.set('a', sessionData(60_000))).rejects.toThrow();
      expect(events).toEqual(['disconnect']);
      adapter.heal();
      await store.set('a', sessionData(60_000, { views: 1 }));
      expect(events).toEqual(['disconnect', 'connect']);
    });

    it('tracks callback calls as well as promises', async () => {
      const { adapter, store, events } = storeWithEvents();
      adapter.inject({ kind: 'throw', error: unavailable() });
      const failed = await new Promise((resolve) => store.get('a', (error) => resolve(error)));
      expect(failed).toMatchObject({ code: ErrorCodes.UNAVAILABLE });
      expect(events).toEqual(['disconnect']);
      adapter.heal();
      await new Promise((resolve) => store.get('a', resolve));
      expect(events).toEqual(['disconnect', 'connect']);
    });

    it('does not disconnect on other failures', async () => {
      const { adapter, store, events } = storeWithEvents();
      adapter.inject({ kind: 'EIO', operations: ['write'] });
      await expect(store.set('a', sessionData(60_000, { views: 1 }))).rejects.toThrow();
      expect(events).toEqual([]);
    });

    it('probes the backend while disconnected, and connects when it is back', async () => {
      const { adapter, store, events } = storeWithEvents();
      adapter.inject({ kind: 'throw', error: unavailable() });
      await expect(store.length()).rejects.toThrow();
      adapter.heal();
      // No call from the app: express-session makes none while disconnected.
      await expect.poll(() => events, { timeout: 5_000, interval: 100 }).toContain('connect');
    });

    it('logs a listener that throws rather than failing the store call', async () => {
      const { adapter, store } = storeWithEvents();
      store.on('disconnect', () => {
        throw new Error('listener broke');
      });
      adapter.inject({ kind: 'throw', error: unavailable() });
      const answer = await new Promise((resolve) => store.get('a', (error) => resolve(error)));
      expect(answer).toMatchObject({ code: ErrorCodes.UNAVAILABLE });
    });
  });

  it('works the same from the CommonJS build', async () => {
    const require = createRequire(import.meta.url);
    const commonJs = require('../dist/index.cjs') as typeof import('../src/index.js');
    const store = track(new commonJs.FileStore({ adapter: createMemoryAdapter() }));
    expect(store).toBeInstanceOf(require('express-session').Store);
    await store.set('cjs', sessionData(60_000, { views: 4 }));
    expect((await store.get('cjs'))?.views).toBe(4);
  });
});
