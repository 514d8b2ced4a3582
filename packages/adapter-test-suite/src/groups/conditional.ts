import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { bytes, race, readText } from '../support.js';

/**
 * Conditional `delete`, `move` and `touch`: the check and the act are one step, so that
 * the store's reaper, or a read that found an expired or corrupt record, never removes a
 * write or a touch that landed in between. Times are in the future throughout, so the
 * group runs alike on adapters that expire values themselves.
 */
export function describeConditional({ currentAdapter, support, raceMs }: SuiteContext): void {
  describe('conditional operations', () => {
    if (support.stat) {
      it('delete with ifVersion removes the value only while it is that version', async () => {
        const adapter = currentAdapter();
        await adapter.write('k', bytes('first'));
        const first = (await adapter.stat?.('k'))?.version;
        // Adapters without versions are never given one.
        if (first === undefined) return;
        await adapter.write('k', bytes('second'));
        expect(await adapter.delete('k', { ifVersion: first })).toBe(false);
        expect(await readText(adapter, 'k')).toBe('second');
        const second = (await adapter.stat?.('k'))?.version as string;
        expect(await adapter.delete('k', { ifVersion: second })).toBe(true);
        expect(await adapter.read('k')).toBeNull();
        expect(await adapter.delete('k', { ifVersion: second })).toBe(false);
      });
    }

    if (support.stat && support.move) {
      it('move with ifVersion moves the value only while it is that version', async () => {
        const adapter = currentAdapter();
        await adapter.write('k', bytes('first'));
        const first = (await adapter.stat?.('k'))?.version;
        if (first === undefined) return;
        await adapter.write('k', bytes('second'));
        expect(await adapter.move?.('k', 'aside', { ifVersion: first })).toBe(false);
        expect(await readText(adapter, 'k')).toBe('second');
        expect(await adapter.read('aside')).toBeNull();
        const second = (await adapter.stat?.('k'))?.version as string;
        expect(await adapter.move?.('k', 'aside', { ifVersion: second })).toBe(true);
        expect(await adapter.read('k')).toBeNull();
        expect(await readText(adapter, 'aside')).toBe('second');
      });
    }

    if (!support.keepsExpiry) return;

    it('delete with ifExpiredAt removes only a value expired by then, never one without expiry', async () => {
      const adapter = currentAdapter();
      const base = Date.now();
      await adapter.write('timed', bytes('v'), { expiresAt: base + 60_000 });
      await adapter.write('forever', bytes('v'));
      expect(await adapter.delete('timed', { ifExpiredAt: base + 30_000 })).toBe(false);
      expect(await adapter.delete('forever', { ifExpiredAt: base + 90_000 })).toBe(false);
      expect(await readText(adapter, 'timed')).toBe('v');
      expect(await readText(adapter, 'forever')).toBe('v');
      expect(await adapter.delete('timed', { ifExpiredAt: base + 60_000 })).toBe(true);
      expect(await adapter.read('timed')).toBeNull();
      expect(await adapter.delete('ghost', { ifExpiredAt: base + 60_000 })).toBe(false);
    });

    it('a value touched to a later expiry is no longer removed by ifExpiredAt', async () => {
      const adapter = currentAdapter();
      const base = Date.now();
      await adapter.write('k', bytes('v'), { expiresAt: base + 60_000 });
      expect(await adapter.touch?.('k', base + 120_000)).toBe(true);
      expect(await adapter.delete('k', { ifExpiredAt: base + 90_000 })).toBe(false);
      expect(await readText(adapter, 'k')).toBe('v');
    });

    it('touch with ifLiveAt never brings back a value expired by then', async () => {
      const adapter = currentAdapter();
      const base = Date.now();
      await adapter.write('k', bytes('v'), { expiresAt: base + 60_000 });
      expect(await adapter.touch?.('k', base + 600_000, { ifLiveAt: base + 60_000 })).toBe(false);
      expect((await adapter.stat?.('k'))?.expiresAt).toBe(base + 60_000);
      expect(await adapter.touch?.('k', base + 600_000, { ifLiveAt: base + 59_999 })).toBe(true);
      expect((await adapter.stat?.('k'))?.expiresAt).toBe(base + 600_000);
      expect(await adapter.touch?.('ghost', base + 600_000, { ifLiveAt: base })).toBe(false);
    });

    it('a conditional delete never removes a write that lands while it runs', async () => {
      const adapter = currentAdapter();
      await race(raceMs, async (key, base, round) => {
        await adapter.write(key, bytes('old'), { expiresAt: base + 60_000 });
        // The delete removes only values expired by base + 90 s; the write is live well past.
        const [, removed] = await Promise.all([
          adapter.write(key, bytes(`new-${round}`), { expiresAt: base + 3_600_000 }),
          adapter.delete(key, { ifExpiredAt: base + 90_000 }),
        ]);
        expect(await readText(adapter, key), `round ${round} (removed: ${removed})`).toBe(
          `new-${round}`,
        );
      });
    });

    it('a conditional delete never undoes a touch that lands while it runs', async () => {
      const adapter = currentAdapter();
      await race(raceMs, async (key, base, round) => {
        await adapter.write(key, bytes('v'), { expiresAt: base + 60_000 });
        const [touched, removed] = await Promise.all([
          adapter.touch?.(key, base + 3_600_000),
          adapter.delete(key, { ifExpiredAt: base + 90_000 }),
        ]);
        // Whichever went first, the two agree: a touched value stays, a removed one is gone.
        const stored = await adapter.stat?.(key);
        expect(touched && removed, `round ${round}`).toBe(false);
        if (touched) expect(stored?.expiresAt, `round ${round}`).toBe(base + 3_600_000);
        else expect(stored, `round ${round}`).toBeNull();
      });
    });
  });
}
