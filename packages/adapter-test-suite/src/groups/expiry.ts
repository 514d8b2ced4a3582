import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { bytes, collect, readData, sameBytes } from '../support.js';
import { describeTouch } from './touch.js';

/**
 * Expiry: an adapter with `touch` keeps the expiry it is given and moves it; one with
 * `nativeExpiry` drops expired values itself; any other leaves the decision to the store.
 */
export function describeExpiry(suite: SuiteContext): void {
  const { currentAdapter, support } = suite;
  describe('expiry', () => {
    if (support.keepsExpiry) {
      it('keeps expiresAt to the millisecond, and none when none was given', async () => {
        const adapter = currentAdapter();
        const expiresAt = Date.now() + 3_600_123;
        await adapter.write('timed', bytes('v'), { expiresAt });
        await adapter.write('forever', bytes('v'));
        expect((await adapter.stat?.('timed'))?.expiresAt).toBe(expiresAt);
        expect((await adapter.stat?.('forever'))?.expiresAt).toBeUndefined();
      });

      it('keeps any expiry up to capabilities.expiresUntil, and reports none past it', async () => {
        const adapter = currentAdapter();
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
        const adapter = currentAdapter();
        await adapter.write('k', bytes('v'), { expiresAt: Date.now() + 60_000 });
        await adapter.write('k', bytes('w'));
        expect((await adapter.stat?.('k'))?.expiresAt).toBeUndefined();
      });

      describeTouch(suite);
    }

    if (support.nativeExpiry) {
      it('stops returning and listing a value once its expiry passes', async () => {
        const adapter = currentAdapter();
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
        const adapter = currentAdapter();
        await adapter.write('past', bytes('v'), { expiresAt: Date.now() - 1_000 });
        expect(await adapter.read('past')).toBeNull();
      });
    } else {
      it('keeps an expired value readable: expiry is the store’s decision', async () => {
        const adapter = currentAdapter();
        await adapter.write('past', bytes('v'), { expiresAt: Date.now() - 1_000 });
        expect(sameBytes(await readData(adapter, 'past'), bytes('v'))).toBe(true);
        if (support.keepsExpiry)
          expect((await adapter.stat?.('past'))?.expiresAt).toBeLessThan(Date.now());
      });
    }
  });
}
