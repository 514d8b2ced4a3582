import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createMemoryAdapter } from '@sessionfs/adapter-memory';
import { type FsAdapter, sessionKey } from '@sessionfs/core';
import type { Session } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FileSessionStore,
  type FileSessionStoreOptions,
  FileStore,
  hasErrorCode,
  SessionStoreError,
} from '../src/index.js';

/** A session as @fastify/session hands it over, reduced to what matters here. */
function session(fields: Record<string, unknown>, maxAge = 60_000): Session {
  return {
    cookie: { originalMaxAge: maxAge, expires: new Date(Date.now() + maxAge) },
    ...fields,
  } as Session;
}

/** An adapter over `inner` with only the required methods (and no `dir`), some replaced. */
function forward(inner: FsAdapter, replaced: Partial<FsAdapter> = {}): FsAdapter {
  return {
    capabilities: { nativeExpiry: false },
    read: (key, options) => inner.read(key, options),
    write: (key, data, options) => inner.write(key, data, options),
    delete: (key) => inner.delete(key),
    list: (prefix) => inner.list(prefix),
    ...replaced,
  };
}

/** Calls a callback-style method and resolves what its callback received. */
function call<T extends unknown[]>(
  run: (callback: (...args: T) => void) => void,
): Promise<{ args: T; synchronous: boolean }> {
  return new Promise((resolve) => {
    let returned = false;
    run((...args) => resolve({ args, synchronous: !returned }));
    returned = true;
  });
}

const get = (store: FileSessionStore, id: string) =>
  call<[SessionStoreError | null, (Session | null)?]>((done) => store.get(id, done));
const set = (store: FileSessionStore, id: string, value: Session) =>
  call<[(SessionStoreError | null)?]>((done) => store.set(id, value, done));
const destroy = (store: FileSessionStore, id: string) =>
  call<[(SessionStoreError | null)?]>((done) => store.destroy(id, done));

let root: string;
let stores: FileSessionStore[] = [];

function open(options: FileSessionStoreOptions | string): FileSessionStore {
  const store = new FileSessionStore(options);
  stores.push(store);
  return store;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sessionfs-store-'));
});
afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  stores = [];
  await rm(root, { recursive: true, force: true });
});

describe('FileSessionStore callbacks', () => {
  it('gets null for a session that does not exist, asynchronously', async () => {
    const store = open({ dir: join(root, 'sessions'), reapInterval: false });
    const { args, synchronous } = await get(store, 'nobody');
    expect(args).toEqual([null, null]);
    expect(synchronous).toBe(false);
  });

  it('gets back what was set, as a copy that later changes to the original do not reach', async () => {
    const store = open({ adapter: createMemoryAdapter(), reapInterval: false });
    const original = session({ views: 3 });
    expect((await set(store, 'id-1', original)).args[0]).toBeNull();
    (original as unknown as { views: number }).views = 99; // not saved
    const { args } = await get(store, 'id-1');
    expect(args[0]).toBeNull();
    expect(args[1]).toMatchObject({ views: 3, cookie: { originalMaxAge: 60_000 } });
    expect(args[1]).not.toBe(original);
  });

  it('destroys a session, and destroying it again is not an error', async () => {
    const store = open({ adapter: createMemoryAdapter(), reapInterval: false });
    await set(store, 'id-1', session({ views: 1 }));
    expect((await destroy(store, 'id-1')).args[0]).toBeNull();
    expect((await get(store, 'id-1')).args).toEqual([null, null]);
    expect((await destroy(store, 'id-1')).args[0]).toBeNull();
  });

  it('touch moves the expiry of an unchanged session', async () => {
    const adapter = createMemoryAdapter();
    const store = open({ adapter, reapInterval: false });
    await set(store, 'id-1', session({ views: 1 }, 1_000));
    const later = session({ views: 1 }, 3_600_000);
    await call<[(SessionStoreError | null)?]>((done) => store.touch('id-1', later, done));
    const stat = await adapter.stat?.(sessionKey('id-1'));
    expect(stat?.expiresAt).toBeGreaterThan(Date.now() + 3_000_000);
  });

  it('reads an id no session can have as no session, so that a new one is issued', async () => {
    const store = open({ adapter: createMemoryAdapter(), reapInterval: false });
    for (const id of ['', 'x'.repeat(10_000), '\uD800lone surrogate']) {
      const read = await get(store, id);
      expect(read.synchronous).toBe(false);
      expect(read.args).toEqual([null, null]);
      // Nothing is stored under such an id, so there is nothing to destroy.
      expect((await destroy(store, id)).args).toEqual([null]);
      // Storing under it stays an error: @fastify/session only saves ids it issued.
      const saved = await set(store, id, session({ views: 1 }));
      expect(saved.synchronous).toBe(false);
      expect(SessionStoreError.isInstance(saved.args[0])).toBe(true);
      expect(saved.args[0]?.code).toBe('ERR_INVALID_ID');
    }
  });

  it('hands a write failure to the callback and keeps the stored session', async () => {
    const adapter = createMemoryAdapter();
    let failWrites = false;
    const flaky = forward(adapter, {
      write: (key, data, options) =>
        failWrites
          ? Promise.reject(new SessionStoreError('ERR_NO_SPACE', 'disk full'))
          : adapter.write(key, data, options),
    });
    const store = open({ adapter: flaky, reapInterval: false });
    await set(store, 'id-1', session({ views: 1 }));
    failWrites = true;
    const { args } = await set(store, 'id-1', session({ views: 2 }));
    expect(hasErrorCode(args[0], 'ERR_NO_SPACE')).toBe(true);
    expect((await get(store, 'id-1')).args[1]).toMatchObject({ views: 1 });
  });

  it('answers ERR_CLOSED after close()', async () => {
    const store = open({ adapter: createMemoryAdapter(), reapInterval: false });
    await store.close();
    expect((await get(store, 'id-1')).args[0]?.code).toBe('ERR_CLOSED');
    expect((await set(store, 'id-1', session({}))).args[0]?.code).toBe('ERR_CLOSED');
  });

  it('passes the engine options through (ttl, here with a virtual clock)', async () => {
    let now = Date.now();
    const store = open({
      adapter: createMemoryAdapter(),
      reapInterval: false,
      ttl: 1_000,
      now: () => now,
    });
    // No cookie expiry at all: the ttl decides.
    await set(store, 'id-1', { views: 1 } as unknown as Session);
    now += 999;
    expect((await get(store, 'id-1')).args[1]).toMatchObject({ views: 1 });
    now += 2;
    expect((await get(store, 'id-1')).args).toEqual([null, null]);
  });

  it('needs exactly one of `dir` and `adapter`', () => {
    const both = { dir: root, adapter: createMemoryAdapter() };
    for (const options of [both, {}, undefined]) {
      expect(() => new FileSessionStore(options as unknown as FileSessionStoreOptions)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
      );
    }
  });
});

describe('new FileStore(directory), as with @itrocks/fastify-file-session-store', () => {
  it('creates a missing directory 0700 and writes 0600 files named by sessionFile()', async () => {
    const dir = join(root, 'a', 'sessions');
    const store: FileStore = new FileStore(dir);
    stores.push(store);
    await set(store, 'Ab-_9', session({ views: 1 }));
    const file = store.sessionFile('Ab-_9');
    expect(dirname(file)).toBe(dir);
    expect((await readdir(dir)).sort()).toEqual(['.sessionfs-layout', file.slice(dir.length + 1)]);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('resolves a relative directory against the working directory', () => {
    const store = open('./relative-sessions');
    expect(store.dir).toBe(join(process.cwd(), 'relative-sessions'));
  });

  it('keeps every id inside the directory, whatever it holds', async () => {
    const store = open({ dir: join(root, 'sessions'), reapInterval: false });
    for (const id of ['../../etc/passwd', '/abs', '..', 'a\\b', 'CON', 'nul\0byte', 'ünï']) {
      expect(dirname(store.sessionFile(id))).toBe(join(root, 'sessions'));
      expect((await set(store, id, session({ id }))).args[0]).toBeNull();
      expect((await get(store, id)).args[1]).toMatchObject({ id });
    }
    expect(await readdir(root)).toEqual(['sessions']);
    expect(
      (await readdir(join(root, 'sessions'))).filter((name) => !name.startsWith('.')),
    ).toHaveLength(7);
  });

  it("with layout: 'sharded', spreads files over subdirectories and sessionFile() names each", async () => {
    const dir = join(root, 'sessions');
    const store = open({ dir, layout: 'sharded', reapInterval: false });
    const ids = Array.from({ length: 40 }, (_, index) => `visitor-${index}`);
    for (const id of ids) await set(store, id, session({ id }));
    const shards = new Set<string>();
    for (const id of ids) {
      const file = store.sessionFile(id);
      shards.add(dirname(file));
      expect(dirname(dirname(file))).toBe(dir);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await get(store, id)).args[1]).toMatchObject({ id });
    }
    expect(shards.size).toBeGreaterThan(8);
  });

  it('has no sessionFile() for an adapter that is not a directory', () => {
    const store = open({ adapter: forward(createMemoryAdapter()), reapInterval: false });
    expect(store.dir).toBeUndefined();
    expect(() => store.sessionFile('x')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    );
  });
});
