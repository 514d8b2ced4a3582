import type { FsAdapter } from './adapter.js';
import { ErrorCodes, SessionStoreError } from './errors.js';
import type { StoreLogger } from './logger.js';
import { mapConcurrently } from './map-concurrently.js';
import { progressReporter, type RunOptions, untilAborted } from './progress.js';
import { encodeRecord, parseRecord } from './record.js';
import { redactKey } from './redaction.js';
import type { SessionEncoding } from './session-encoding.js';
import { sessionIdOf } from './session-id.js';
import type { SessionRecords } from './session-records.js';
import type { SessionTable } from './session-table.js';
import type { StoredExpiry } from './stored-expiry.js';

/** How far {@link rekey} has come. */
export interface RekeyProgress {
  /**
   * Session records looked at. A listing may yield a record replaced during the run once
   * more (then found current), so this can exceed the number of sessions.
   */
  readonly scanned: number;
  /** Records sealed again with the current key. */
  readonly rekeyed: number;
}

/** What {@link rekey} did. */
export interface RekeyResult extends RekeyProgress {
  /** Records already sealed with the current key. */
  readonly current: number;
  /**
   * Records left as they were: expired, unreadable with these keys, or saved by someone
   * else while they were re-sealed (that save used its own keys).
   */
  readonly skipped: number;
  /** Records the adapter failed on; a new run tries them again. */
  readonly failed: number;
  /** Whether `signal` stopped the run before the end. */
  readonly stopped: boolean;
}

/** Options of `store.rekey()`. */
export type RekeyOptions = RunOptions<RekeyProgress>;

/** What a run works on. */
export interface RekeyContext {
  readonly adapter: FsAdapter;
  readonly records: SessionRecords;
  readonly encoding: SessionEncoding;
  readonly expiry: StoredExpiry;
  readonly table: SessionTable;
  readonly concurrency: number;
  readonly logger: StoreLogger;
  readonly now: () => number;
}

type Outcome = 'rekeyed' | 'current' | 'skipped' | 'failed';

/**
 * Seals every stored session that is not sealed with the current key again with it,
 * streaming the listing with at most `concurrency` records under way. Each record is put
 * back with `replace`, only while it is still the very version read: a save landing in
 * between is never overwritten (it sealed the session itself). A run can stop at any point
 * and the next one goes on where it left off: records already current are only read.
 */
export async function rekey(
  context: RekeyContext,
  options: RekeyOptions = {},
): Promise<RekeyResult> {
  const { adapter, encoding, concurrency, logger, now } = context;
  if (!encoding.seals) {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      '@sessionfs/core: rekey() needs the `encryption` option',
    );
  }
  if (typeof adapter.replace !== 'function') {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      '@sessionfs/core: rekey() needs an adapter with `replace` (a write only over a given version)',
    );
  }
  const counts = { scanned: 0, rekeyed: 0, current: 0, skipped: 0, failed: 0 };
  const { signal } = options;
  const progress = progressReporter(now, options.onProgress);
  const keys = untilAborted(context.records.keys(), signal);
  for await (const outcome of mapConcurrently(keys, concurrency, (key) => rekeyOne(context, key))) {
    counts.scanned += 1;
    counts[outcome] += 1;
    progress.tick(() => ({ scanned: counts.scanned, rekeyed: counts.rekeyed }));
  }
  progress.end({ scanned: counts.scanned, rekeyed: counts.rekeyed });
  if (counts.failed > 0) {
    logger.warn(
      { failed: counts.failed },
      '@sessionfs/core: rekey() could not re-seal some sessions; run it again to retry them',
    );
  }
  return { ...counts, stopped: signal?.aborted === true };
}

async function rekeyOne(context: RekeyContext, key: string): Promise<Outcome> {
  const { adapter, encoding, expiry, table, now, logger } = context;
  try {
    const value = await adapter.read(key, { maxBytes: context.records.maxRecordBytes });
    if (value === null || value.version === undefined) return 'skipped';
    const record = parseRecord(value.data);
    // Corrupt records are for `get` to set aside.
    if ('corrupt' in record) return 'skipped';
    const expiresAt = expiry.of(value, record.expiresAt);
    if (expiresAt <= now()) return 'skipped';
    const opened = await encoding.open(record.payload, key, record.cookieExpires);
    if ('unreadable' in opened) return 'skipped';
    if (opened.current) return 'current';
    const sealed = await encoding.seal(opened.plaintext, key, record.cookieExpires);
    const data = encodeRecord({ ...record, expiresAt, digest: undefined }, sealed);
    const replaced = await adapter.replace?.(key, data, { ifVersion: value.version, expiresAt });
    if (!replaced) return 'skipped';
    // What this store remembers of the session names the version just replaced.
    const id = record.id ?? sessionIdOf(key);
    if (id !== null) table.forget(id);
    return 'rekeyed';
  } catch (error) {
    logger.debug?.(
      { key: redactKey(key), err: error },
      '@sessionfs/core: rekey() failed on a record',
    );
    return 'failed';
  }
}
