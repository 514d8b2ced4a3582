import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { bytes, collect, patterned, readData, sameBytes } from '../support.js';

/** Listing by prefix: a stream of exactly the written keys, also at scale and mid-write. */
export function describeListing({ currentAdapter, manyKeys }: SuiteContext): void {
  describe('list', () => {
    it('lists nothing when empty', async () => {
      expect(await collect(currentAdapter().list(''))).toEqual([]);
    });

    it('returns a stream, not an array', () => {
      const listing = currentAdapter().list('');
      expect(Array.isArray(listing)).toBe(false);
      expect(typeof listing[Symbol.asyncIterator]).toBe('function');
    });

    it('lists exactly the written keys that start with the prefix', async () => {
      const adapter = currentAdapter();
      for (const key of ['s.a', 's.b', 's.c', 'x.a', 'sa']) await adapter.write(key, bytes(key));
      expect((await collect(adapter.list(''))).sort()).toEqual(['s.a', 's.b', 's.c', 'sa', 'x.a']);
      expect((await collect(adapter.list('s.'))).sort()).toEqual(['s.a', 's.b', 's.c']);
      expect(await collect(adapter.list('x'))).toEqual(['x.a']);
      expect(await collect(adapter.list('none'))).toEqual([]);
    });

    it(`lists ${manyKeys} keys exactly once each`, async () => {
      const adapter = currentAdapter();
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
      const adapter = currentAdapter();
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
      const adapter = currentAdapter();
      const written = new Set(Array.from({ length: 20 }, (_, i) => `w${i}`));
      const writes = Promise.all(
        [...written].flatMap((key, i) => [
          adapter.write(key, patterned(32 * 1024, i)),
          adapter.write(key, patterned(16 * 1024, i + 1)),
        ]),
      );
      const foreign: string[] = [];
      for (let round = 0; round < 10; round += 1) {
        for (const key of await collect(adapter.list(''))) if (!written.has(key)) foreign.push(key);
      }
      await writes;
      for (const key of await collect(adapter.list(''))) if (!written.has(key)) foreign.push(key);
      expect(foreign).toEqual([]);
    });
  });
}
