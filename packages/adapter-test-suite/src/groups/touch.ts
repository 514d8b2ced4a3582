import { expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { bytes, collect, patterned, readData, sameBytes } from '../support.js';

/**
 * `touch` moves the expiry and nothing else. Its tests run inside the expiry group, since
 * having `touch` is how an adapter says it keeps expiries.
 */
export function describeTouch({ currentAdapter }: SuiteContext): void {
  it('touch moves the expiry and keeps the data', async () => {
    const adapter = currentAdapter();
    const data = patterned(1000, 5);
    await adapter.write('k', data, { expiresAt: Date.now() + 60_000 });
    const later = Date.now() + 7_200_456;
    expect(await adapter.touch?.('k', later)).toBe(true);
    expect((await adapter.stat?.('k'))?.expiresAt).toBe(later);
    expect(sameBytes(await readData(adapter, 'k'), data)).toBe(true);
  });

  it('touch leaves the version alone: the data did not change', async () => {
    const adapter = currentAdapter();
    await adapter.write('k', bytes('v'), { expiresAt: Date.now() + 60_000 });
    const before = await adapter.stat?.('k');
    await adapter.touch?.('k', Date.now() + 120_000);
    expect((await adapter.stat?.('k'))?.version).toBe(before?.version);
  });

  it('touch with ifVersion moves the expiry only while the value is that version', async () => {
    const adapter = currentAdapter();
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
    const adapter = currentAdapter();
    expect(await adapter.touch?.('ghost', Date.now() + 60_000)).toBe(false);
    expect(await adapter.read('ghost')).toBeNull();
    expect(await collect(adapter.list(''))).toEqual([]);
  });
}
