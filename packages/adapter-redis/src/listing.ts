import { isCluster, type RedisClient, type Scanner } from './client.js';

/**
 * What follows the adapter's prefix in the name of an owner's set, before the owner. A key
 * never starts with a dot, so no key names an owner set, and `list` skips every name that
 * is not a key: an owner set is never read, listed, counted, reaped or cleared as a value.
 */
export const OWNER_SETS = '.owners:';

/** The `SCAN` pattern of every key that starts with `prefix`, and of no other. */
export function startingWith(prefix: string): string {
  // Escapes SCAN's glob characters so that the prefix matches only itself.
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/**
 * The Redis keys matching `pattern`, in batches, by `SCAN` (never `KEYS`, which blocks
 * Redis while it walks every key): on each master of a cluster, or on the one server.
 */
export async function* scanBatches(
  client: RedisClient,
  pattern: string,
  count: number,
): AsyncIterable<string[]> {
  const scanners: Scanner[] = isCluster(client)
    ? await Promise.all(client.masters.map((master) => client.nodeClient(master)))
    : [client as unknown as Scanner];
  for (const scanner of scanners) {
    yield* scanner.scanIterator({ MATCH: pattern, COUNT: count });
  }
}
