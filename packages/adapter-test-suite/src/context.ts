import type { FsAdapter } from '@sessionfs/core/adapter';
import type { AdapterSuiteOptions } from './suite.js';

/** What an adapter supports, as far as the optional groups need to know it. */
export interface Support {
  /** It has `touch`, which the contract ties to keeping expiries and reporting them. */
  readonly keepsExpiry: boolean;
  readonly nativeExpiry: boolean;
  readonly stat: boolean;
  readonly move: boolean;
  readonly replace: boolean;
  readonly close: boolean;
  /** It keeps an owner index (`owners`), and whether its entries expire by themselves. */
  readonly owners: boolean;
  readonly expiringOwners: boolean;
}

/** What every group of the suite is given. */
export interface SuiteContext {
  /** The adapter of the test that is running: each test gets a fresh one. */
  readonly currentAdapter: () => FsAdapter;
  readonly support: Support;
  /** How many keys the large listing test writes. */
  readonly manyKeys: number;
  /** How long, at most, each race test runs, in milliseconds. */
  readonly raceMs: number;
}

/**
 * Learns what the adapter supports from one sample adapter, which it then closes and
 * destroys: vitest registers the tests before any `beforeEach` runs, so the optional
 * groups must be decided from an adapter of their own.
 */
export async function inspect<A extends FsAdapter>(
  options: AdapterSuiteOptions<A>,
): Promise<Support> {
  const sample = await options.create();
  const support: Support = {
    keepsExpiry: typeof sample.touch === 'function',
    nativeExpiry: sample.capabilities.nativeExpiry,
    stat: typeof sample.stat === 'function',
    move: typeof sample.move === 'function',
    replace: typeof sample.replace === 'function',
    close: typeof sample.close === 'function',
    owners: sample.owners !== undefined,
    expiringOwners: sample.owners?.expiring === true,
  };
  await sample.close?.();
  await options.destroy?.(sample);
  return support;
}
