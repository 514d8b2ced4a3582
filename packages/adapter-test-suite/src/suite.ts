import type { FsAdapter } from '@sessionfs/core/adapter';
import { afterEach, beforeEach, describe } from 'vitest';
import { inspect, type SuiteContext } from './context.js';
import { describeAtomicity } from './groups/atomicity.js';
import { describeBasics } from './groups/basics.js';
import { describeCapabilities } from './groups/capabilities.js';
import { describeClose } from './groups/close.js';
import { describeConditional } from './groups/conditional.js';
import { describeExpiry } from './groups/expiry.js';
import { describeKeys } from './groups/keys.js';
import { describeListing } from './groups/listing.js';
import { describeMove } from './groups/move.js';
import { describeOwners } from './groups/owners.js';
import { describeReplace } from './groups/replace.js';
import { describeStat } from './groups/stat.js';

/** Options of {@link runAdapterSuite}. */
export interface AdapterSuiteOptions<A extends FsAdapter = FsAdapter> {
  /**
   * Returns a fresh adapter over empty, isolated storage. Called before every test; the
   * suite closes the adapter after the test.
   */
  create: () => A | Promise<A>;
  /** Removes what `create` set up (a temp directory, a key prefix), after `close()`. */
  destroy?: (adapter: A) => void | Promise<void>;
  /** How many keys the large listing test writes. Default 10,000. */
  manyKeys?: number;
  /** How long, at most, the race tests run each, in milliseconds. Default 3,000. */
  raceMs?: number;
}

/** The groups, in the order they run; each registers only what the adapter supports. */
const GROUPS: ReadonlyArray<(suite: SuiteContext) => void> = [
  describeBasics,
  describeKeys,
  describeListing,
  describeAtomicity,
  describeCapabilities,
  describeStat,
  describeExpiry,
  describeMove,
  describeConditional,
  describeReplace,
  describeOwners,
  describeClose,
];

/**
 * Registers the `FsAdapter` conformance tests in the current vitest file. Groups for
 * optional methods (stat, touch and kept expiry, move, replace, the owner index, close) and for native expiry run
 * only when the adapter has them.
 *
 * ```ts
 * import { runAdapterSuite } from '@sessionfs/adapter-test-suite';
 * runAdapterSuite('my-adapter', { create: () => createMyAdapter() });
 * ```
 */
export function runAdapterSuite<A extends FsAdapter>(
  name: string,
  options: AdapterSuiteOptions<A>,
): void {
  describe(`FsAdapter conformance: ${name}`, async () => {
    let adapter: A;

    beforeEach(async () => {
      adapter = await options.create();
    });

    afterEach(async () => {
      await adapter.close?.();
      await options.destroy?.(adapter);
    });

    const suite: SuiteContext = {
      currentAdapter: () => adapter,
      support: await inspect(options),
      manyKeys: options.manyKeys ?? 10_000,
      raceMs: options.raceMs ?? 3_000,
    };
    for (const describeGroup of GROUPS) describeGroup(suite);
  });
}
