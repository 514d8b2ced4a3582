import { ErrorCodes, type FsAdapter, KEY_ALPHABET, MAX_KEY_LENGTH } from '@sessionfs/core/adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeConditional } from './conditional.js';
import { bytes, collect, expectCode, inspect, patterned, readData, sameBytes } from './support.js';

/** Options of {@link runAdapterSuite}. */
export interface AdapterSuiteOptions<A extends FsAdapter = FsAdapter> {
  /**
   * Returns a fresh adapter over empty, isolated storage. Called before every test; the
   * suite closes the adapter after the test.
   */
  create: () => A | Promise<A>;
  /** Removes what `create` set up (a temp directory, a key prefix), after `close()`. */
  destroy?: (adapter: A) => void | Promise<void>;
  /** How many keys the large listing test writes. Default 10,000. */
  manyKeys?: number;
  /** How long, at most, the race tests run each, in milliseconds. Default 3,000. */
  raceMs?: number;
}

/**
 * Registers the `FsAdapter` conformance tests in the current vitest file. Groups for
 * optional capabilities (stat, expiry, native expiry, touch, move, close) run only when
 * the adapter declares them.
 *
 * ```ts
 * import { runAdapterSuite } from '@sessionfs/adapter-test-suite';
 * runAdapterSuite('my-adapter', { create: () => createMyAdapter() });
 * ```
 */
export function runAdapterSuite<A extends FsAdapter>(
  name: string,
  options: AdapterSuiteOptions<A>,
): void {
  const manyKeys = options.manyKeys ?? 10_000;
  const raceMs = options.raceMs ?? 3_000;

  describe(`FsAdapter conformance: ${name}`, () => {
    let adapter: A;

    beforeEach(async () => {
      adapter = await options.create();
    });

    afterEach(async () => {
      await adapter.close?.();
      await options.destroy?.(adapter);
    });

    describe('read and write', () => {
      it('reads a missing key as null', async () => {
        expect(await adapter.read('missing')).toBeNull();
      });

      it('round-trips a value as a Uint8Array', async () => {
        await adapter.write('k1', bytes('hello'));
        const value = await adapter.read('k1');
        expect(value?.data).toBeInstanceOf(Uint8Array);
        expect(new TextDecoder().decode(value?.data)).toBe('hello');
        expect(value?.size).toBe(5);
      });

      it('is binary-safe: every byte value, the empty value, and 1 MB', async () => {
        const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
        const megabyte = patterned(1024 * 1024, 7);
        await adapter.write('every-byte', everyByte);
        await adapter.write('empty', new Uint8Array(0));
        await adapter.write('megabyte', megabyte);
        expect(sameBytes(await readData(adapter, 'every-byte'), everyByte)).toBe(true);
        const empty = await readData(adapter, 'empty');
        expect(empty).not.toBeNull();
        expect(empty?.byteLength).toBe(0);
        expect(sameBytes(await readData(adapter, 'megabyte'), megabyte)).toBe(true);
      });

      it('replaces the whole value on overwrite (no tail of a longer previous value)', async () => {
        await adapter.write('k', patterned(4096, 1));
        await adapter.write('k', bytes('short'));
        expect(sameBytes(await readData(adapter, 'k'), bytes('short'))).toBe(true);
      });

      it('keeps the stored value when the caller reuses its buffer after write', async () => {
        const buffer = bytes('original');
        await adapter.write('k', buffer);
        buffer.fill(0);
        expect(sameBytes(await readData(adapter, 'k'), bytes('original'))).toBe(true);
      });

      it('keeps the stored value when the caller mutates what read returned', async () => {
        await adapter.write('k', bytes('original'));
        const first = await readData(adapter, 'k');
        first?.fill(0);
        expect(sameBytes(await readData(adapter, 'k'), bytes('original'))).toBe(true);
      });

      it('keeps keys apart', async () => {
        await adapter.write('a', bytes('A'));
        await adapter.write('b', bytes('B'));
        expect(sameBytes(await readData(adapter, 'a'), bytes('A'))).toBe(true);
        expect(sameBytes(await readData(adapter, 'b'), bytes('B'))).toBe(true);
      });
    });

    describe('delete', () => {
      it('removes a value', async () => {
        await adapter.write('k', bytes('v'));
        await adapter.delete('k');
        expect(await adapter.read('k')).toBeNull();
        expect(await collect(adapter.list(''))).toEqual([]);
      });

      it('is idempotent, and resolves whether a value was there', async () => {
        expect(await adapter.delete('never-written')).toBe(false);
        await adapter.write('k', bytes('v'));
        expect(await adapter.delete('k')).toBe(true);
        expect(await adapter.delete('k')).toBe(false);
        expect(await adapter.read('k')).toBeNull();
      });

      it('leaves other keys alone', async () => {
        await adapter.write('keep', bytes('v'));
        await adapter.write('drop', bytes('v'));
        await adapter.delete('drop');
        expect(await collect(adapter.list(''))).toEqual(['keep']);
      });
    });

    describe('keys', () => {
      it('accepts every character of the key alphabet, at the start and inside a key', async () => {
        const starters = [...KEY_ALPHABET].filter((c) => /[a-z0-9]/.test(c));
        const written = new Map<string, string>();
        for (const c of KEY_ALPHABET) written.set(`k${c}k`, c);
        for (const c of starters) written.set(`${c}`, `start-${c}`);
        for (const [key, value] of written) await adapter.write(key, bytes(value));
        for (const [key, value] of written) {
          expect(sameBytes(await readData(adapter, key), bytes(value)), key).toBe(true);
        }
        expect((await collect(adapter.list(''))).sort()).toEqual([...written.keys()].sort());
      });

      it(`accepts a key of ${MAX_KEY_LENGTH} characters`, async () => {
        const key = `${'a'.repeat(MAX_KEY_LENGTH - 1)}z`;
        await adapter.write(key, bytes('long'));
        expect(sameBytes(await readData(adapter, key), bytes('long'))).toBe(true);
        expect(await collect(adapter.list(''))).toEqual([key]);
      });

      it('rejects keys outside the alphabet with ERR_INVALID_KEY, asynchronously', async () => {
        const bad = [
          '',
          '../escape',
          'a/b',
          'a\\b',
          '.hidden',
          'Upper',
          'nul\0',
          'é',
          'a'.repeat(MAX_KEY_LENGTH + 1),
        ];
        for (const key of bad) {
          let promise: Promise<unknown> | undefined;
          expect(() => {
            promise = adapter.write(key, bytes('x'));
          }).not.toThrow();
          await expectCode(promise as Promise<unknown>, ErrorCodes.INVALID_KEY);
          await expectCode(adapter.read(key), ErrorCodes.INVALID_KEY);
          await expectCode(adapter.delete(key), ErrorCodes.INVALID_KEY);
        }
        expect(await collect(adapter.list(''))).toEqual([]);
      });
    });

    describe('list', () => {
      it('lists nothing when empty', async () => {
        expect(await collect(adapter.list(''))).toEqual([]);
      });

      it('returns a stream, not an array', () => {
        const listing = adapter.list('');
        expect(Array.isArray(listing)).toBe(false);
        expect(typeof listing[Symbol.asyncIterator]).toBe('function');
      });

      it('lists exactly the written keys that start with the prefix', async () => {
        for (const key of ['s.a', 's.b', 's.c', 'x.a', 'sa']) await adapter.write(key, bytes(key));
        expect((await collect(adapter.list(''))).sort()).toEqual([
          's.a',
          's.b',
          's.c',
          'sa',
          'x.a',
        ]);
        expect((await collect(adapter.list('s.'))).sort()).toEqual(['s.a', 's.b', 's.c']);
        expect(await collect(adapter.list('x'))).toEqual(['x.a']);
        expect(await collect(adapter.list('none'))).toEqual([]);
      });

      it(`lists ${manyKeys} keys exactly once each`, async () => {
        const keys = Array.from({ length: manyKeys }, (_, i) => `many-${i.toString(36)}`);
        const value = bytes('v');
        for (let i = 0; i < keys.length; i += 100) {
          await Promise.all(keys.slice(i, i + 100).map((key) => adapter.write(key, value)));
        }
        const seen = new Set<string>();
        let count = 0;
        for await (const key of adapter.list('many-')) {
          seen.add(key);
          count += 1;
        }
        expect(count).toBe(manyKeys);
        expect(seen.size).toBe(manyKeys);
        expect(keys.every((key) => seen.has(key))).toBe(true);
      });

      it('can be abandoned early and listed again', async () => {
        for (let i = 0; i < 50; i += 1) await adapter.write(`k${i}`, bytes('v'));
        for (let round = 0; round < 20; round += 1) {
          for await (const key of adapter.list('k')) {
            expect(key.startsWith('k')).toBe(true);
            break;
          }
        }
        expect(await collect(adapter.list('k'))).toHaveLength(50);
        await adapter.write('after', bytes('v'));
        expect(sameBytes(await readData(adapter, 'after'), bytes('v'))).toBe(true);
      });

      it('never shows temporary or partial entries while writes are under way', async () => {
        const written = new Set(Array.from({ length: 20 }, (_, i) => `w${i}`));
        const writes = Promise.all(
          [...written].flatMap((key, i) => [
            adapter.write(key, patterned(32 * 1024, i)),
            adapter.write(key, patterned(16 * 1024, i + 1)),
          ]),
        );
        const foreign: string[] = [];
        for (let round = 0; round < 10; round += 1) {
          for (const key of await collect(adapter.list('')))
            if (!written.has(key)) foreign.push(key);
        }
        await writes;
        for (const key of await collect(adapter.list(''))) if (!written.has(key)) foreign.push(key);
        expect(foreign).toEqual([]);
      });
    });

    describe('atomicity', () => {
      it('a reader racing a writer sees only whole values', async () => {
        const first = patterned(256 * 1024, 1);
        const second = patterned(256 * 1024, 2);
        await adapter.write('race', first);
        let writing = true;
        const deadline = Date.now() + raceMs;
        const writer = (async () => {
          for (let i = 0; i < 200 && Date.now() < deadline; i += 1) {
            await adapter.write('race', i % 2 ? first : second);
          }
          writing = false;
        })();
        let reads = 0;
        let torn = 0;
        while (writing) {
          const value = await readData(adapter, 'race');
          reads += 1;
          if (!sameBytes(value, first) && !sameBytes(value, second)) torn += 1;
        }
        await writer;
        expect(reads).toBeGreaterThan(0);
        expect(torn).toBe(0);
      });

      it('concurrent writers to one key leave exactly one whole value', async () => {
        const values = Array.from({ length: 16 }, (_, i) => patterned(64 * 1024 + i, i));
        await Promise.all(values.map((value) => adapter.write('contended', value)));
        const stored = await readData(adapter, 'contended');
        expect(values.filter((value) => sameBytes(stored, value))).toHaveLength(1);
        expect(await collect(adapter.list(''))).toEqual(['contended']);
      });
    });

    describe('read bound', () => {
      it('rejects with ERR_TOO_LARGE instead of reading past maxBytes', async () => {
        await adapter.write('big', patterned(10_000, 3));
        await expectCode(adapter.read('big', { maxBytes: 9_999 }), ErrorCodes.TOO_LARGE);
        expect((await readData(adapter, 'big', { maxBytes: 10_000 }))?.byteLength).toBe(10_000);
        expect(await adapter.read('absent', { maxBytes: 1 })).toBeNull();
      });
    });

    it('cleanup, where present, never removes a stored value', async () => {
      if (!adapter.cleanup) return;
      await adapter.write('kept', bytes('v'));
      expect(await adapter.cleanup(0)).toBeGreaterThanOrEqual(0);
      expect(sameBytes(await readData(adapter, 'kept'), bytes('v'))).toBe(true);
    });

    it('declares capabilities that match its methods', async () => {
      expect(typeof adapter.capabilities.storesExpiry).toBe('boolean');
      expect(typeof adapter.capabilities.nativeExpiry).toBe('boolean');
      if (adapter.capabilities.storesExpiry) {
        expect(typeof adapter.stat).toBe('function');
        expect(typeof adapter.touch).toBe('function');
      }
    });

    describeStat(() => adapter, options);
    describeExpiry(() => adapter, options);
    describeMove(() => adapter, options);
    describeConditional(() => adapter, options);
    describeClose(() => adapter, options);
  });
}

function describeStat<A extends FsAdapter>(get: () => A, options: AdapterSuiteOptions<A>): void {
  describe('stat', async () => {
    if (!(await inspect(options)).stat) return;

    it('reports a missing key as null', async () => {
      expect(await get().stat?.('missing')).toBeNull();
    });

    it('reports the size, and a version that changes with the data', async () => {
      const adapter = get();
      await adapter.write('k', bytes('12345'));
      const before = await adapter.stat?.('k');
      expect(before?.size).toBe(5);
      await adapter.write('k', bytes('1234567'));
      const after = await adapter.stat?.('k');
      expect(after?.size).toBe(7);
      if (before?.version !== undefined) expect(after?.version).not.toBe(before.version);
      await adapter.delete('k');
      expect(await adapter.stat?.('k')).toBeNull();
    });

    it('write resolves the version that stat then reports, if it resolves one', async () => {
      const adapter = get();
      for (const value of ['first', 'second', 'second']) {
        const written = await adapter.write('k', bytes(value));
        const stat = await adapter.stat?.('k');
        if (written?.version !== undefined) expect(written.version).toBe(stat?.version);
      }
    });

    it('read reports the same metadata as stat', async () => {
      const adapter = get();
      const expiresAt = Date.now() + 120_000;
      await adapter.write('k', bytes('value'), { expiresAt });
      const { data, ...metadata } = (await adapter.read('k')) ?? { data: null };
      expect(data).not.toBeNull();
      expect(metadata).toEqual(await adapter.stat?.('k'));
    });
  });
}

function describeExpiry<A extends FsAdapter>(get: () => A, options: AdapterSuiteOptions<A>): void {
  describe('expiry', async () => {
    const { storesExpiry, nativeExpiry } = await inspect(options);

    if (storesExpiry) {
      it('keeps expiresAt to the millisecond, and none when none was given', async () => {
        const adapter = get();
        const expiresAt = Date.now() + 3_600_123;
        await adapter.write('timed', bytes('v'), { expiresAt });
        await adapter.write('forever', bytes('v'));
        expect((await adapter.stat?.('timed'))?.expiresAt).toBe(expiresAt);
        expect((await adapter.stat?.('forever'))?.expiresAt).toBeUndefined();
      });

      it('keeps any expiry up to capabilities.expiresUntil, and reports none past it', async () => {
        const adapter = get();
        const until = adapter.capabilities.expiresUntil;
        const far = Date.UTC(2100, 0, 1, 0, 0, 0, 7);
        if (until === undefined || until >= far) {
          await adapter.write('far', bytes('v'), { expiresAt: far });
          expect((await adapter.stat?.('far'))?.expiresAt).toBe(far);
          return;
        }
        await adapter.write('last', bytes('v'), { expiresAt: until });
        await adapter.write('past', bytes('v'), { expiresAt: until + 1_000 });
        expect((await adapter.stat?.('last'))?.expiresAt).toBe(until);
        expect((await adapter.stat?.('past'))?.expiresAt).toBeUndefined();
      });

      it('an overwrite without expiresAt clears the expiry', async () => {
        const adapter = get();
        await adapter.write('k', bytes('v'), { expiresAt: Date.now() + 60_000 });
        await adapter.write('k', bytes('w'));
        expect((await adapter.stat?.('k'))?.expiresAt).toBeUndefined();
      });

      it('touch moves the expiry and keeps the data', async () => {
        const adapter = get();
        const data = patterned(1000, 5);
        await adapter.write('k', data, { expiresAt: Date.now() + 60_000 });
        const later = Date.now() + 7_200_456;
        expect(await adapter.touch?.('k', later)).toBe(true);
        expect((await adapter.stat?.('k'))?.expiresAt).toBe(later);
        expect(sameBytes(await readData(adapter, 'k'), data)).toBe(true);
      });

      it('touch leaves the version alone: the data did not change', async () => {
        const adapter = get();
        await adapter.write('k', bytes('v'), { expiresAt: Date.now() + 60_000 });
        const before = await adapter.stat?.('k');
        await adapter.touch?.('k', Date.now() + 120_000);
        expect((await adapter.stat?.('k'))?.version).toBe(before?.version);
      });

      it('touch with ifVersion moves the expiry only while the value is that version', async () => {
        const adapter = get();
        const first = Date.now() + 60_000;
        await adapter.write('k', bytes('v'), { expiresAt: first });
        const known = (await adapter.stat?.('k'))?.version;
        // Adapters without versions are never given one.
        if (known === undefined) return;
        const later = Date.now() + 120_000;
        expect(await adapter.touch?.('k', later, { ifVersion: known })).toBe(true);
        expect((await adapter.stat?.('k'))?.expiresAt).toBe(later);

        await adapter.write('k', bytes('changed'), { expiresAt: first });
        expect(await adapter.touch?.('k', later + 1_000, { ifVersion: known })).toBe(false);
        expect((await adapter.stat?.('k'))?.expiresAt).toBe(first);
        expect(new TextDecoder().decode(await readData(adapter, 'k'))).toBe('changed');

        await adapter.delete('k');
        expect(await adapter.touch?.('k', later, { ifVersion: known })).toBe(false);
        expect(await adapter.read('k')).toBeNull();
      });

      it('touch of a missing key resolves false and creates nothing', async () => {
        const adapter = get();
        expect(await adapter.touch?.('ghost', Date.now() + 60_000)).toBe(false);
        expect(await adapter.read('ghost')).toBeNull();
        expect(await collect(adapter.list(''))).toEqual([]);
      });
    }

    if (nativeExpiry) {
      it('stops returning and listing a value once its expiry passes', async () => {
        const adapter = get();
        const expiresAt = Date.now() + 1_000;
        await adapter.write('short', bytes('v'), { expiresAt });
        await adapter.write('long', bytes('v'), { expiresAt: Date.now() + 60_000 });
        const early = await adapter.read('short');
        // On a loaded machine the read may come late; only a read before expiry must see it.
        if (Date.now() < expiresAt - 100) expect(early).not.toBeNull();
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 300),
        );
        expect(await adapter.read('short')).toBeNull();
        expect(await collect(adapter.list(''))).toEqual(['long']);
      });

      it('treats an expiry in the past as already expired', async () => {
        const adapter = get();
        await adapter.write('past', bytes('v'), { expiresAt: Date.now() - 1_000 });
        expect(await adapter.read('past')).toBeNull();
      });
    } else {
      it('keeps an expired value readable: expiry is the store’s decision', async () => {
        const adapter = get();
        await adapter.write('past', bytes('v'), { expiresAt: Date.now() - 1_000 });
        expect(sameBytes(await readData(adapter, 'past'), bytes('v'))).toBe(true);
        if (storesExpiry)
          expect((await adapter.stat?.('past'))?.expiresAt).toBeLessThan(Date.now());
      });
    }
  });
}

function describeMove<A extends FsAdapter>(get: () => A, options: AdapterSuiteOptions<A>): void {
  describe('move', async () => {
    const { move, storesExpiry } = await inspect(options);
    if (!move) return;

    it('moves a value, replacing the target, and carries its expiry', async () => {
      const adapter = get();
      const expiresAt = Date.now() + 90_000;
      await adapter.write('from', bytes('moved'), { expiresAt });
      await adapter.write('to', bytes('replaced'));
      expect(await adapter.move?.('from', 'to')).toBe(true);
      expect(await adapter.read('from')).toBeNull();
      expect(sameBytes(await readData(adapter, 'to'), bytes('moved'))).toBe(true);
      if (storesExpiry) expect((await adapter.stat?.('to'))?.expiresAt).toBe(expiresAt);
      expect(await collect(adapter.list(''))).toEqual(['to']);
    });

    it('resolves false when the source is missing', async () => {
      const adapter = get();
      expect(await adapter.move?.('ghost', 'to')).toBe(false);
      expect(await adapter.read('to')).toBeNull();
    });
  });
}

function describeClose<A extends FsAdapter>(get: () => A, options: AdapterSuiteOptions<A>): void {
  describe('close', async () => {
    if (!(await inspect(options)).close) return;

    it('rejects every operation with ERR_CLOSED after close, and closes twice', async () => {
      const adapter = get();
      await adapter.write('k', bytes('v'));
      await adapter.close?.();
      await adapter.close?.();
      await expectCode(adapter.read('k'), ErrorCodes.CLOSED);
      await expectCode(adapter.write('k', bytes('w')), ErrorCodes.CLOSED);
      await expectCode(adapter.delete('k'), ErrorCodes.CLOSED);
      await expectCode(collect(adapter.list('')), ErrorCodes.CLOSED);
      if (adapter.stat) await expectCode(adapter.stat('k'), ErrorCodes.CLOSED);
      if (adapter.touch) await expectCode(adapter.touch('k', Date.now()), ErrorCodes.CLOSED);
      if (adapter.move) await expectCode(adapter.move('k', 'j'), ErrorCodes.CLOSED);
    });
  });
}
