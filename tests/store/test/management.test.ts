import * as nodeFs from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { createMemoryAdapter } from '@sessionfs/adapter-memory';
import type { NodeFs, NodeFsPromises } from '@sessionfs/adapter-node';
import { createSessionStore, ErrorCodes, hasErrorCode, sessionKey } from '@sessionfs/core';
import { describe, expect, it } from 'vitest';
import {
  adapters,
  collect,
  fastifySession,
  instrument,
  nodeAdapter,
  openStore,
  rejection,
  virtualClock,
} from './helpers.js';

describe.each(adapters)('management over the %s adapter', (_, createAdapter) => {
  it('counts, lists and streams unexpired sessions', async () => {
    const clock = virtualClock();
    const store = openStore({ adapter: await createAdapter(), now: clock.now });
    for (let i = 0; i < 300; i += 1) {
      await store.set(
        `user-${i}`,
        fastifySession(clock.now(), { i }, i % 3 === 0 ? 1_000 : 60_000),
      );
    }
    clock.advance(1_000);
    expect(await store.length()).toBe(200);
    const ids = store.ids();
    expect(Array.isArray(ids)).toBe(false);
    const listed = await collect(ids);
    expect(new Set(listed).size).toBe(200);
    expect(listed.every((id) => Number(id.slice(5)) % 3 !== 0)).toBe(true);
    const entries = await collect(store.entries());
    expect(entries).toHaveLength(200);
    for (const [id, session] of entries) expect(session.i).toBe(Number(id.slice(5)));
  });

  it('clear removes every session and nothing else', async () => {
    const adapter = await createAdapter();
    const store = openStore({ adapter });
    for (let i = 0; i < 50; i += 1) await store.set(`s${i}`, { i });
    await adapter.write('corrupt.kept-for-inspection', new Uint8Array([1, 2, 3]));
    await adapter.write('unrelated', new Uint8Array([4]));
    expect(await store.clear()).toBe(50);
    expect(await store.length()).toBe(0);
    expect(await store.get('s1')).toBeNull();
    expect((await collect(adapter.list(''))).sort()).toEqual([
      'corrupt.kept-for-inspection',
      'unrelated',
    ]);
  });

  it('rejects every call after close with ERR_CLOSED, closes the adapter, and closes twice', async () => {
    const adapter = await createAdapter();
    const store = createSessionStore({ adapter, reapInterval: 1_000 });
    await store.set('id', { a: 1 });
    await store.close();
    await store.close();
    for (const call of [
      () => store.get('id'),
      () => store.set('id', { a: 2 }),
      () => store.touch('id', { a: 2 }),
      () => store.destroy('id'),
      () => store.length(),
      () => store.clear(),
      () => store.reap(),
      () => collect(store.ids()),
      () => collect(store.entries()),
    ]) {
      expect(hasErrorCode(await rejection(call()), ErrorCodes.CLOSED)).toBe(true);
    }
    expect(hasErrorCode(await rejection(adapter.read('x')), ErrorCodes.CLOSED)).toBe(true);
  });

  it('destroy is idempotent', async () => {
    const store = openStore({ adapter: await createAdapter() });
    await store.set('id', { a: 1 });
    await store.destroy('id');
    await store.destroy('id');
    expect(await store.get('id')).toBeNull();
  });
});

describe('read failures', () => {
  it('are errors, not "logged out", and carry the adapter error', async () => {
    const spy = instrument(createMemoryAdapter());
    const store = openStore({ adapter: spy.adapter });
    await store.set('id', { a: 1 });
    const outage = new Error('backend unreachable');
    spy.fail('read', outage);
    const error = await rejection(store.get('id'));
    expect(hasErrorCode(error, ErrorCodes.IO)).toBe(true);
    expect((error as Error).cause).toBe(outage);
    expect((error as Error).message).toMatch(/^@sessionfs\/core: /);
    spy.heal();
    expect(await store.get('id')).toEqual({ a: 1 });
  });
});

describe('options', () => {
  it.each([
    [{ ttl: 0 }],
    [{ ttl: -1 }],
    [{ reapInterval: 0 }],
    [{ maxRecordBytes: Number.NaN }],
    [{ concurrency: 0 }],
    [{ cache: { mode: 'sometimes' } }],
    [{ cache: { maxEntries: -5 } }],
  ])('rejects %j with ERR_INVALID_OPTION', (bad) => {
    expect(() =>
      createSessionStore({ adapter: createMemoryAdapter(), ...(bad as object) }),
    ).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_OPTION }));
  });

  it('rejects a missing adapter', () => {
    expect(() => createSessionStore({} as never)).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTION }),
    );
  });

  it('takes a custom codec', async () => {
    const codec = {
      encode: (session: unknown) => `custom:${JSON.stringify(session)}`,
      decode: (data: Uint8Array) => JSON.parse(new TextDecoder().decode(data).slice(7)),
    };
    const adapter = createMemoryAdapter();
    const store = openStore({ adapter, codec });
    await store.set('id', { a: 1 });
    expect(await store.get('id')).toEqual({ a: 1 });
    expect(adapter.volume.readFileSync(`${adapter.dir}/${sessionKey('id')}`, 'utf8')).toContain(
      'custom:{"a":1}',
    );
  });

  it('stores text codecs as UTF-8, multi-byte and ill-formed text alike, and reads it back whole', async () => {
    // A codec that returns text as it is: a lone surrogate is stored as U+FFFD.
    const codec = {
      encode: (session: unknown) => (session as { text: string }).text,
      decode: (data: Uint8Array) => ({ text: new TextDecoder().decode(data) }),
    };
    const adapter = createMemoryAdapter();
    const store = openStore({ adapter, codec });
    for (const text of ['plain', 'héllo wörld ✓ 日本 🎉', 'lone \ud800 surrogate', '\udfff']) {
      await store.set('id', { text });
      // A fresh store: nothing remembered, the record's digest is checked against its bytes.
      const reader = openStore({ adapter, codec });
      expect(await reader.get('id'), text).toEqual({ text: text.toWellFormed() });
    }
  });
});

describe('on disk', () => {
  it('creates the directory 0700 and session files 0600', async () => {
    const adapter = await nodeAdapter();
    const store = openStore({ adapter });
    await store.set('id', { secret: 'token' });
    expect((await fs.stat(adapter.dir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(join(adapter.dir, sessionKey('id')))).mode & 0o777).toBe(0o600);
  });

  it('lists every session under file-descriptor pressure', async () => {
    const adapter = await nodeAdapter();
    const store = openStore({ adapter });
    for (let i = 0; i < 200; i += 1) await store.set(`s${i}`, { i });
    // Every third open finds no descriptor left, on both the synchronous and the
    // asynchronous path.
    let opens = 0;
    const emfile = () =>
      Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
    const pressured: NodeFs = {
      ...nodeFs,
      openSync: ((...args: Parameters<typeof nodeFs.openSync>) => {
        if (++opens % 3 === 0) throw emfile();
        return nodeFs.openSync(...args);
      }) as NodeFs['openSync'],
      promises: {
        ...fs,
        open: ((...args: Parameters<typeof fs.open>) =>
          ++opens % 3 === 0
            ? Promise.reject(emfile())
            : fs.open(...args)) as NodeFsPromises['open'],
      },
    };
    const squeezed = openStore({
      adapter: await nodeAdapter({ dir: adapter.dir, fs: pressured }),
      concurrency: 64,
    });
    expect((await collect(squeezed.entries())).length).toBe(200);
    expect(await squeezed.length()).toBe(200);
  });
});
