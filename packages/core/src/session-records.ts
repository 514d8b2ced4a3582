import type { FsAdapter, StoredValue } from './adapter.js';
import { ErrorCodes, hasErrorCode, storeFailure } from './errors.js';
import { mapConcurrently } from './map-concurrently.js';
import { parseRecord } from './record.js';
import { isSessionKey, SESSION_PREFIX, sessionIdOf } from './session-id.js';

/** A stored value with its record parsed (or found corrupt). */
export interface ListedRecord {
  readonly value: StoredValue;
  readonly record: ReturnType<typeof parseRecord>;
}

/**
 * The session records in the adapter as listings and the reaper see them: keys of
 * sessions only, and records read without the checks and reports of `get`.
 */
export class SessionRecords {
  constructor(
    private readonly adapter: FsAdapter,
    readonly maxRecordBytes: number,
  ) {}

  /**
   * The keys of sessions, and nothing else: files another program left under the session
   * prefix (`s.json`, `s.1`, `s.backup.tar`) are never counted, listed, reaped or cleared.
   */
  async *keys(): AsyncIterable<string> {
    for await (const key of this.adapter.list(SESSION_PREFIX)) {
      if (isSessionKey(key)) yield key;
    }
  }

  /** Removes every session record, and nothing else; resolves how many it removed. */
  async deleteAll(concurrency: number): Promise<number> {
    let removed = 0;
    const deletions = mapConcurrently(this.keys(), concurrency, (key) => this.adapter.delete(key));
    for await (const wasRemoved of deletions) if (wasRemoved) removed += 1;
    return removed;
  }

  /** How many session records the adapter holds, expired or not. */
  async count(): Promise<number> {
    let count = 0;
    for await (const _ of this.keys()) count += 1;
    return count;
  }

  /**
   * The record under a listed key: `null` when it is gone, or cannot be read at all (too
   * large, not a record); `get` reports those.
   */
  async read(key: string): Promise<ListedRecord | null> {
    const value = await this.readValue(key);
    return value === null ? null : { value, record: parseRecord(value.data) };
  }

  /** The stored value under `key`, unparsed; `null` as for {@link read}. */
  async readValue(key: string): Promise<StoredValue | null> {
    try {
      return await this.adapter.read(key, { maxBytes: this.maxRecordBytes });
    } catch (error) {
      if (
        hasErrorCode(error, ErrorCodes.TOO_LARGE) ||
        hasErrorCode(error, ErrorCodes.FOREIGN_ENTRY)
      ) {
        return null;
      }
      throw error;
    }
  }

  /**
   * The session id whose key is `key`: spelled out in the key, or, for the digest key of a
   * long id, held by its record. `null` when the record is gone or names no id.
   */
  async idOf(key: string): Promise<string | null> {
    const spelled = sessionIdOf(key);
    if (spelled !== null) return spelled;
    const record = (await this.read(key))?.record;
    return record === undefined || 'corrupt' in record ? null : (record.id ?? null);
  }

  /** Whether a record is stored under `key` (for `maxSessions`: is this a new session?). */
  async exists(key: string): Promise<boolean> {
    try {
      if (this.adapter.stat) return (await this.adapter.stat(key)) !== null;
      return (await this.adapter.read(key, { maxBytes: this.maxRecordBytes })) !== null;
    } catch (error) {
      if (hasErrorCode(error, ErrorCodes.TOO_LARGE)) return true;
      throw storeFailure(error, 'read');
    }
  }
}
