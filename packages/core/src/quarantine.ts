import type { FsAdapter } from './adapter.js';
import { mapConcurrently } from './map-concurrently.js';
import { CORRUPT_PREFIX, setAsideAt } from './session-id.js';

/** How long, and how many, records set aside are kept for inspection. */
export interface QuarantineOptions {
  /** Records set aside longer ago than this many ms are removed. Default three days. */
  maxAge?: number;
  /** At most this many are kept, the newest. Default 1,000. */
  maxRecords?: number;
}

export const QUARANTINE_MAX_AGE_MS = 3 * 24 * 60 * 60 * 1000;
export const QUARANTINE_MAX_RECORDS = 1_000;

/**
 * Removes the records set aside longer than `maxAge` ago, then the oldest beyond
 * `maxRecords`, and resolves how many it removed. They hold session data, and nothing
 * else would ever remove them. (Keys are kept in memory to find the oldest: at most the
 * records set aside since the last run, beyond the bound.)
 */
export async function pruneQuarantine(
  adapter: FsAdapter,
  now: number,
  maxAge: number,
  maxRecords: number,
  concurrency: number,
): Promise<number> {
  const kept: { key: string; at: number }[] = [];
  const expired: string[] = [];
  for await (const key of adapter.list(CORRUPT_PREFIX)) {
    const at = setAsideAt(key);
    if (at === null) continue;
    if (now - at > maxAge) expired.push(key);
    else kept.push({ key, at });
  }
  kept.sort((a, b) => b.at - a.at);
  const doomed = [...expired, ...kept.slice(maxRecords).map(({ key }) => key)];
  let removed = 0;
  const keys = (async function* () {
    yield* doomed;
  })();
  for await (const wasRemoved of mapConcurrently(keys, concurrency, (key) => adapter.delete(key))) {
    if (wasRemoved) removed += 1;
  }
  return removed;
}
