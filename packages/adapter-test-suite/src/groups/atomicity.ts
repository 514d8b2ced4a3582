import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { collect, patterned, readData, sameBytes } from '../support.js';

/** A write is whole or absent: racing readers and writers never see part of one. */
export function describeAtomicity({ currentAdapter, raceMs }: SuiteContext): void {
  describe('atomicity', () => {
    it('a reader racing a writer sees only whole values', async () => {
      const adapter = currentAdapter();
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
      const adapter = currentAdapter();
      const values = Array.from({ length: 16 }, (_, i) => patterned(64 * 1024 + i, i));
      await Promise.all(values.map((value) => adapter.write('contended', value)));
      const stored = await readData(adapter, 'contended');
      expect(values.filter((value) => sameBytes(stored, value))).toHaveLength(1);
      expect(await collect(adapter.list(''))).toEqual(['contended']);
    });
  });
}
