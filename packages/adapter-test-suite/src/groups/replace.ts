import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { bytes, race, readText } from '../support.js';

/**
 * `replace`: a write that lands only on the version it names, in one step, so that the
 * store can re-encrypt a stored session without overwriting a save made meanwhile.
 */
export function describeReplace({ currentAdapter, support, raceMs }: SuiteContext): void {
  if (!support.replace) return;
  describe('replace', () => {
    it('writes over the named version, with its expiry, and resolves the new version', async () => {
      const adapter = currentAdapter();
      const base = Date.now();
      const { version } = await adapter.write('k', bytes('old'), { expiresAt: base + 60_000 });
      const first = version ?? (await adapter.read('k'))?.version;
      expect(first).toBeDefined();
      const replaced = await adapter.replace?.('k', bytes('new'), {
        ifVersion: first as string,
        expiresAt: base + 120_000,
      });
      expect(replaced).not.toBeNull();
      expect(await readText(adapter, 'k')).toBe('new');
      const read = await adapter.read('k');
      expect(read?.version).toBe(replaced?.version);
      expect(read?.version).not.toBe(first);
      if (support.keepsExpiry) expect(read?.expiresAt).toBe(base + 120_000);
    });

    it('writes nothing over another version, or where nothing is', async () => {
      const adapter = currentAdapter();
      const { version } = await adapter.write('k', bytes('first'));
      const first = version ?? ((await adapter.read('k'))?.version as string);
      await adapter.write('k', bytes('second'));
      expect(await adapter.replace?.('k', bytes('late'), { ifVersion: first })).toBeNull();
      expect(await readText(adapter, 'k')).toBe('second');
      await adapter.delete('k');
      expect(await adapter.replace?.('k', bytes('late'), { ifVersion: first })).toBeNull();
      expect(await adapter.read('k')).toBeNull();
      const keys: string[] = [];
      for await (const key of adapter.list('')) keys.push(key);
      expect(keys).toEqual([]);
    });

    it('never overwrites a write that lands while it runs', async () => {
      const adapter = currentAdapter();
      await race(raceMs, async (key, base, round) => {
        const { version } = await adapter.write(key, bytes('old'), { expiresAt: base + 60_000 });
        const ifVersion = version ?? ((await adapter.read(key))?.version as string);
        const [, replaced] = await Promise.all([
          adapter.write(key, bytes(`new-${round}`), { expiresAt: base + 60_000 }),
          adapter.replace?.(key, bytes('rekeyed'), { ifVersion, expiresAt: base + 60_000 }),
        ]);
        // Replaced first, then overwritten by the write; or refused: the write stays.
        expect(
          await readText(adapter, key),
          `round ${round} (replaced: ${replaced !== null})`,
        ).toBe(`new-${round}`);
      });
    });

    it('never brings back a value deleted while it runs', async () => {
      const adapter = currentAdapter();
      await race(raceMs, async (key, base, round) => {
        const { version } = await adapter.write(key, bytes('old'), { expiresAt: base + 60_000 });
        const ifVersion = version ?? ((await adapter.read(key))?.version as string);
        await Promise.all([
          adapter.delete(key),
          adapter.replace?.(key, bytes('rekeyed'), { ifVersion, expiresAt: base + 60_000 }),
        ]);
        expect(await adapter.read(key), `round ${round}`).toBeNull();
      });
    });
  });
}
