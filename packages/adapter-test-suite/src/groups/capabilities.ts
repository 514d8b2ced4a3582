import { expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { bytes, readData, sameBytes } from '../support.js';

/**
 * What the adapter declares, and `cleanup`: checks of the adapter as a whole, so they sit
 * at the top of the suite rather than in a group.
 */
export function describeCapabilities({ currentAdapter }: SuiteContext): void {
  it('cleanup, where present, never removes a stored value', async () => {
    const adapter = currentAdapter();
    if (!adapter.cleanup) return;
    await adapter.write('kept', bytes('v'));
    expect(await adapter.cleanup(0)).toBeGreaterThanOrEqual(0);
    expect(sameBytes(await readData(adapter, 'kept'), bytes('v'))).toBe(true);
  });

  it('declares capabilities that match its methods', () => {
    const adapter = currentAdapter();
    expect(typeof adapter.capabilities.nativeExpiry).toBe('boolean');
    // Keeping expiries is what `touch` promises, and the store reads them back with `stat`.
    if (typeof adapter.touch === 'function') expect(typeof adapter.stat).toBe('function');
  });
}
