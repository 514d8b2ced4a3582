import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { bytes, collect, readData, sameBytes } from '../support.js';

/** `move`: the value and its expiry go to the new key, replacing what was there. */
export function describeMove({ currentAdapter, support }: SuiteContext): void {
  describe('move', () => {
    if (!support.move) return;

    it('moves a value, replacing the target, and carries its expiry', async () => {
      const adapter = currentAdapter();
      const expiresAt = Date.now() + 90_000;
      await adapter.write('from', bytes('moved'), { expiresAt });
      await adapter.write('to', bytes('replaced'));
      expect(await adapter.move?.('from', 'to')).toBe(true);
      expect(await adapter.read('from')).toBeNull();
      expect(sameBytes(await readData(adapter, 'to'), bytes('moved'))).toBe(true);
      if (support.keepsExpiry) expect((await adapter.stat?.('to'))?.expiresAt).toBe(expiresAt);
      expect(await collect(adapter.list(''))).toEqual(['to']);
    });

    it('resolves false when the source is missing', async () => {
      const adapter = currentAdapter();
      expect(await adapter.move?.('ghost', 'to')).toBe(false);
      expect(await adapter.read('to')).toBeNull();
    });
  });
}
