import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ErrorCodes,
  hasErrorCode,
  MAX_ID_BYTES,
  MAX_SPELLED_ID_BYTES,
  sessionIdOf,
  sessionKey,
} from '@sessionfs/core';
import { isValidKey } from '@sessionfs/core/adapter';
import { describe, expect, it } from 'vitest';
import { adapters, collect, nodeAdapter, openStore, rejection, tempRoot } from './helpers.js';

/** A short id spelled out in base32, or a long one's SHA-256 in base32 after `s.0`. */
const KEY_SHAPE = /^s\.([a-z2-7]+|0[a-z2-7]{52})$/;

const hostileIds = [
  '..',
  '../escape',
  '../../etc/passwd',
  '/etc/passwd',
  'C:\\Windows\\system32',
  'a\\b',
  'a/b',
  'nul\0byte',
  '.',
  '.hidden',
  'CON',
  'nul.txt',
  'COM1',
  'LPT9',
  'ünïcödé-🙂',
  '   ',
  'a'.repeat(MAX_ID_BYTES),
];

describe.each(adapters)('session ids over the %s adapter', (_, createAdapter) => {
  it('stores hostile ids safely and reads each back as itself', async () => {
    const store = openStore({ adapter: await createAdapter() });
    for (const [index, id] of hostileIds.entries()) await store.set(id, { index });
    for (const [index, id] of hostileIds.entries()) expect(await store.get(id)).toEqual({ index });
    expect((await collect(store.ids())).sort()).toEqual([...hostileIds].sort());
  });

  it('rejects ids it cannot store with ERR_INVALID_ID, as a promise, never a throw', async () => {
    const store = openStore({ adapter: await createAdapter() });
    const invalid: unknown[] = [
      '',
      'x'.repeat(10_000),
      'é'.repeat(MAX_ID_BYTES / 2 + 1),
      '\uD800lone surrogate',
      42,
      undefined,
      null,
    ];
    for (const id of invalid) {
      for (const call of [
        () => store.get(id as string),
        () => store.set(id as string, { a: 1 }),
        () => store.touch(id as string, { a: 1 }),
        () => store.destroy(id as string),
      ]) {
        let promise: Promise<unknown> | undefined;
        expect(() => {
          promise = call();
        }).not.toThrow();
        const error = await rejection(promise as Promise<unknown>);
        expect(hasErrorCode(error, ErrorCodes.INVALID_ID), String(id).slice(0, 20)).toBe(true);
        expect((error as Error).message).toMatch(/^@sessionfs/);
      }
    }
    expect(await store.length()).toBe(0);
  });

  it('keeps ids that differ only in case apart', async () => {
    const store = openStore({ adapter: await createAdapter() });
    await store.set('abc', { v: 'lower' });
    await store.set('ABC', { v: 'upper' });
    await store.set('Abc', { v: 'mixed' });
    expect(await store.get('abc')).toEqual({ v: 'lower' });
    expect(await store.get('ABC')).toEqual({ v: 'upper' });
    expect(await store.get('Abc')).toEqual({ v: 'mixed' });
  });
});

describe('the id scheme', () => {
  it('maps ids one-to-one onto lowercase keys that cannot name a path', () => {
    const seen = new Map<string, string>();
    const ids = [...hostileIds];
    for (let i = 0; i < 3_000; i += 1) {
      const length = 1 + (i % 40);
      ids.push(
        Array.from({ length }, (_, j) =>
          String.fromCodePoint(((i * 7919 + j * 104_729) % 0xd000) + 1),
        ).join(''),
      );
    }
    for (const id of ids) {
      const key = sessionKey(id);
      expect(isValidKey(key), key).toBe(true);
      expect(key).toMatch(KEY_SHAPE);
      // A long id's key is a digest of it: its record holds the id.
      expect(sessionIdOf(key)).toBe(Buffer.byteLength(id) > MAX_SPELLED_ID_BYTES ? null : id);
      const before = seen.get(key.toLowerCase());
      if (before !== undefined) expect(before).toBe(id);
      seen.set(key.toLowerCase(), id);
    }
  });

  it('refuses keys that are not canonical encodings of an id', () => {
    expect(sessionIdOf('s.')).toBeNull();
    expect(sessionIdOf('corrupt.mfrgg')).toBeNull();
    expect(sessionIdOf('s.mfrgh')).toBeNull(); // non-zero padding bits
    expect(sessionIdOf('s.mfrgg1')).toBeNull(); // not in the alphabet
    expect(sessionIdOf(sessionKey('abc'))).toBe('abc');
  });

  it('writes every session as a file directly inside the directory, nowhere else', async () => {
    const root = await tempRoot();
    const adapter = await nodeAdapter({ dir: join(root, 'sessions') });
    const store = openStore({ adapter });
    for (const id of hostileIds) await store.set(id, { ok: true });
    expect(await readdir(root)).toEqual(['sessions']);
    // Dot-names are the store's own: the file that records the directory's layout.
    const files = (await readdir(join(root, 'sessions'))).filter((name) => !name.startsWith('.'));
    expect(files).toHaveLength(hostileIds.length);
    for (const file of files) expect(file).toMatch(KEY_SHAPE);
  });
});
