import { ErrorCodes } from '@sessionfs/core/adapter';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { bytes, collect, expectCode, readText } from '../support.js';

/** The distinct keys a listing yields (a cursor may repeat one), sorted. */
async function distinct(iterable: AsyncIterable<string>): Promise<string[]> {
  return [...new Set(await collect(iterable))].sort();
}

/**
 * `owners`: per owner, a set of keys, which the store confirms against the records
 * before trusting. Entries are names only: they never become values, and values never
 * depend on them.
 */
export function describeOwners({ currentAdapter, support, manyKeys }: SuiteContext): void {
  if (!support.owners) return;
  describe('owner index', () => {
    it('lists the keys added under an owner until they are removed', async () => {
      const index = currentAdapter().owners;
      if (!index) throw new Error('owners vanished');
      await index.add('o.alice', 's.one');
      await index.add('o.alice', 's.two');
      await index.add('o.alice', 's.two');
      await index.add('o.bob', 's.three');
      expect(await distinct(index.keys('o.alice'))).toEqual(['s.one', 's.two']);
      expect(await distinct(index.keys('o.bob'))).toEqual(['s.three']);
      expect(await distinct(index.owners())).toEqual(expect.arrayContaining(['o.alice', 'o.bob']));
      await index.remove('o.alice', 's.one');
      await index.remove('o.alice', 's.missing');
      await index.remove('o.nobody', 's.one');
      expect(await distinct(index.keys('o.alice'))).toEqual(['s.two']);
      await index.remove('o.alice', 's.two');
      expect(await distinct(index.keys('o.alice'))).toEqual([]);
      expect(await distinct(index.keys('o.nobody'))).toEqual([]);
    });

    it('keeps entries apart from values: no entry is listed, read or removed as a value', async () => {
      const adapter = currentAdapter();
      const index = adapter.owners;
      if (!index) throw new Error('owners vanished');
      await adapter.write('s.one', bytes('value'));
      await index.add('o.alice', 's.one');
      await index.add('o.alice', 's.never-written');
      expect(await collect(adapter.list(''))).toEqual(['s.one']);
      expect(await adapter.read('s.never-written')).toBeNull();
      await adapter.delete('s.one');
      // Removing a value leaves its entry: the store removes entries itself.
      expect(await distinct(index.keys('o.alice'))).toEqual(['s.never-written', 's.one']);
      await index.remove('o.alice', 's.one');
      expect(await collect(adapter.list(''))).toEqual([]);
      await adapter.write('s.one', bytes('again'));
      expect(await readText(adapter, 's.one')).toBe('again');
    });

    it('streams an owner with many sessions whole', async () => {
      const index = currentAdapter().owners;
      if (!index) throw new Error('owners vanished');
      const count = Math.min(manyKeys, 2_000);
      const keys = Array.from({ length: count }, (_, i) => `s.k${i.toString(36)}`);
      for (let i = 0; i < keys.length; i += 100) {
        await Promise.all(keys.slice(i, i + 100).map((key) => index.add('o.many', key)));
      }
      expect(await distinct(index.keys('o.many'))).toEqual([...keys].sort());
      expect(await distinct(index.keys('o.other'))).toEqual([]);
    });

    it('refuses owners and keys outside the key alphabet', async () => {
      const index = currentAdapter().owners;
      if (!index) throw new Error('owners vanished');
      await expectCode(index.add('../escape', 's.one'), ErrorCodes.INVALID_KEY);
      await expectCode(index.add('o.alice', '../../etc/passwd'), ErrorCodes.INVALID_KEY);
      await expectCode(index.remove('o.alice', '.hidden'), ErrorCodes.INVALID_KEY);
      await expectCode(collect(index.keys('o/../x')), ErrorCodes.INVALID_KEY);
    });

    if (support.expiringOwners) {
      it('keeps an owner until the latest expiry given, then lets it go', async () => {
        const index = currentAdapter().owners;
        if (!index) throw new Error('owners vanished');
        const base = Date.now();
        await index.add('o.brief', 's.one', base + 300);
        await index.add('o.kept', 's.one', base + 300);
        await index.add('o.kept', 's.two', base + 60_000);
        await index.add('o.kept', 's.one', base + 200);
        await new Promise((resolve) => setTimeout(resolve, 600));
        expect(await distinct(index.keys('o.brief'))).toEqual([]);
        expect(await distinct(index.keys('o.kept'))).toEqual(['s.one', 's.two']);
      });
    }
  });
}
