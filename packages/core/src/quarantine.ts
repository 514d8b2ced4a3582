import type { AdapterStat, FsAdapter, StoredValue } from './adapter.js';
import { ErrorCodes, hasErrorCode } from './errors.js';
import type { StoreLogger } from './logger.js';
import { mapConcurrently } from './map-concurrently.js';
import { redactKey } from './redaction.js';
import { CORRUPT_PREFIX, corruptKey, setAsideAt } from './session-id.js';

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

/**
 * Moves an unreadable record out of the session namespace, for inspection, and logs it
 * once: once moved, the id reads as missing and is not reported again. Only the record
 * found is moved (the version of `found`, when it has one): one rewritten since (another
 * process saved the session) stays.
 */
export async function setAside(
  adapter: FsAdapter,
  logger: StoreLogger,
  now: number,
  key: string,
  reason: string,
  found?: StoredValue | AdapterStat,
): Promise<void> {
  const aside = corruptKey(key, now);
  const logged = { key: redactKey(key), setAsideAs: redactKey(aside), reason };
  const value = found !== undefined && 'data' in found ? found : undefined;
  const version = found?.version;
  try {
    if (adapter.move) {
      if (!(await adapter.move(key, aside, version === undefined ? {} : { ifVersion: version }))) {
        return;
      }
    } else if (value) {
      await adapter.write(aside, value.data);
      if (
        !(await adapter.delete(key, version === undefined ? undefined : { ifVersion: version }))
      ) {
        await adapter.delete(aside);
        return;
      }
    } else {
      logger.warn(
        { key: redactKey(key), reason },
        '@sessionfs/core: unreadable session record left in place (adapter cannot move it); the session reads as missing',
      );
      return;
    }
    logger.warn(
      logged,
      '@sessionfs/core: unreadable session record set aside; the session reads as missing',
    );
  } catch (error) {
    if (hasErrorCode(error, ErrorCodes.BUSY)) return;
    logger.error(
      { err: error, ...logged },
      '@sessionfs/core: could not set an unreadable session record aside',
    );
  }
}
