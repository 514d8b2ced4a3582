import type { AdapterStat, DeleteOptions, FsAdapter } from './adapter.js';
import { ErrorCodes, hasErrorCode, storeFailure } from './errors.js';
import type { StoreLogger } from './logger.js';
import { mapConcurrently } from './map-concurrently.js';
import { encodeRecord, parseRecord } from './record.js';
import { redactKey } from './redaction.js';
import type { SessionRecords } from './session-records.js';

/**
 * Where a session's expiry lives, and how it is checked, moved and acted on. Every record
 * holds its expiry; an adapter with `touch` (and `stat`) also keeps one of its own, which
 * `touch` moves without a rewrite and which then is the latest.
 */
export class StoredExpiry {
  /** Whether the adapter keeps expiries of its own. */
  private readonly kept: boolean;
  /** The latest expiry the adapter keeps; a later one lives in the record only. */
  private readonly keptUntil: number;

  constructor(
    private readonly adapter: FsAdapter,
    private readonly records: SessionRecords,
    private readonly now: () => number,
    private readonly logger: StoreLogger,
  ) {
    this.kept = typeof adapter.touch === 'function' && typeof adapter.stat === 'function';
    this.keptUntil = adapter.capabilities.expiresUntil ?? Number.POSITIVE_INFINITY;
  }

  /** Whether the adapter keeps expiries of its own, which then are the latest. */
  get keepsOwn(): boolean {
    return this.kept;
  }

  /** Whether the adapter can hold `expiresAt` itself, so that `touch` can move it there. */
  keeps(expiresAt: number): boolean {
    return this.kept && expiresAt <= this.keptUntil;
  }

  /** The current expiry of a record whose own is `recorded`, from what the adapter reports. */
  of(reported: { readonly expiresAt?: number | undefined }, recorded: number): number {
    return this.kept ? (reported.expiresAt ?? recorded) : recorded;
  }

  /**
   * Whether the adapter's expiry in `stat` is still `expiresAt` (another process may have
   * moved it, even into the past). True where the adapter keeps none.
   */
  matches(stat: AdapterStat, expiresAt: number): boolean {
    if (!this.kept) return true;
    // An expiry past what the adapter keeps reads back as none.
    return stat.expiresAt === (this.keeps(expiresAt) ? expiresAt : undefined);
  }

  /**
   * Moves the adapter's expiry of `key` without a rewrite, if the record is live now (and
   * still `ifVersion`, when given). False when it is not, or when the adapter cannot hold
   * that expiry: the caller writes instead.
   */
  async move(key: string, expiresAt: number, ifVersion?: string): Promise<boolean> {
    if (!this.keeps(expiresAt)) return false;
    const ifLiveAt = this.now();
    return (
      (await this.adapter.touch?.(
        key,
        expiresAt,
        ifVersion === undefined ? { ifLiveAt } : { ifVersion, ifLiveAt },
      )) ?? false
    );
  }

  /**
   * The condition under which a record found expired at `now` (at `version`) is removed:
   * still expired, or still that very version. None for an adapter without either, which
   * then races a write landing in between (such adapters are for one process).
   */
  removalIf(now: number, version: string | undefined): DeleteOptions | undefined {
    if (this.kept) return { ifExpiredAt: now };
    return version === undefined ? undefined : { ifVersion: version };
  }

  /**
   * Removes a record `get` found expired at `now` (at `version`), unless another process
   * renewed or rewrote it since: the adapter checks and removes in one step. Resolves
   * whether it was removed; a failure is logged, as the session reads as missing anyway.
   */
  async removeFound(key: string, now: number, version: string | undefined): Promise<boolean> {
    try {
      return await this.adapter.delete(key, this.removalIf(now, version));
    } catch (error) {
      // Another process is reaping: it removes the record.
      if (!hasErrorCode(error, ErrorCodes.BUSY)) {
        this.logger.warn(
          { err: error, key: redactKey(key) },
          '@sessionfs/core: could not remove an expired session',
        );
      }
      return false;
    }
  }

  /**
   * Removes the record under `key` if it expired by `cutoff`, in one adapter call that
   * checks and removes together: a record written or touched meanwhile, here or by
   * another process, is never removed.
   */
  async removeIfExpired(key: string, cutoff: number): Promise<boolean> {
    if (this.kept) return this.adapter.delete(key, { ifExpiredAt: cutoff });
    // The expiry is in the record: read it, and remove that very version.
    const listed = await this.records.read(key);
    // Corrupt records are for `get` to set aside, not for the reaper to delete.
    if (listed === null || 'corrupt' in listed.record || listed.record.expiresAt > cutoff) {
      return false;
    }
    return this.adapter.delete(key, this.removalIf(cutoff, listed.value.version));
  }

  /** The ids of the sessions live at `now`, streamed. */
  async *liveIds(now: number, concurrency: number): AsyncIterable<string> {
    const live = mapConcurrently(this.records.keys(), concurrency, async (key) => {
      const id = await this.records.idOf(key);
      return id !== null && (await this.ofListed(key)) > now ? id : null;
    });
    for await (const id of live) if (id !== null) yield id;
  }

  /** The expiry of the record under `key`; 0 when gone, so callers treat it as expired. */
  async ofListed(key: string): Promise<number> {
    if (this.adapter.capabilities.nativeExpiry) return Number.POSITIVE_INFINITY;
    if (this.kept) {
      const stat = (await this.adapter.stat?.(key)) ?? null;
      if (stat === null) return 0;
      return stat.expiresAt ?? Number.POSITIVE_INFINITY;
    }
    const listed = await this.records.read(key);
    if (listed === null) return 0;
    // Corrupt records are for `get` to set aside, not for the reaper to delete.
    return 'corrupt' in listed.record ? Number.POSITIVE_INFINITY : listed.record.expiresAt;
  }

  /**
   * `touch` where the adapter cannot move the expiry (it keeps none of its own, or not
   * that far ahead): the record is written again with its data as it is and the new
   * expiry, if it is live. (Writing the session handed to `touch` instead would bring back
   * a destroyed or expired session.) A read then a write, which the contract cannot make
   * one: a write landing in between is lost. Adapters that keep expiries never get here
   * but for expiries past their `expiresUntil`.
   */
  async rewrite(key: string, expiresAt: number): Promise<void> {
    try {
      const value = await this.adapter.read(key, { maxBytes: this.records.maxRecordBytes });
      const record = value && parseRecord(value.data);
      if (!record || 'corrupt' in record) return;
      if (this.of(value, record.expiresAt) <= this.now()) return;
      await this.adapter.write(key, encodeRecord({ ...record, expiresAt }, record.payload), {
        expiresAt,
      });
    } catch (error) {
      if (hasErrorCode(error, ErrorCodes.FOREIGN_ENTRY)) return;
      throw storeFailure(error, 'touch');
    }
  }
}
