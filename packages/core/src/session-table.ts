import { BoundedLru } from './bounded-lru.js';
import { sessionIdOf } from './session-id.js';

/**
 * What the store remembers of a session it read or wrote, by session id: a session in
 * use costs no key encoding, and its next read no digest check while unchanged.
 */
export interface Known {
  /** The adapter key of the session. */
  readonly key: string;
  /** Digest of the encoded session, without its expiry; none where the store writes none. */
  digest: string | undefined;
  cookieExpires: boolean;
  expiresAt: number;
  /** The adapter's version of the record as last seen, if the save strategy keeps it. */
  version: string | undefined;
  /** The encoded session, when the cache is on. */
  readonly payload: Uint8Array | undefined;
  /**
   * Whether the session was read (or its cached copy confirmed) since this store last
   * wrote it. A caller saving it unchanged then saves what it read, and another process's
   * write since is newer than that read: skipping the save (`touchAfter`) loses nothing.
   * After this store's own write, a save of the same data again may have to undo another
   * process's write: it is checked.
   */
  seen: boolean;
  /**
   * The owner (with the `owner` option) of the record as this store last read or wrote
   * it. Its owner-index entry was added before that record was written, so a save under
   * the same owner need not add it first (it still adds it after: see `OwnerRules`).
   */
  owner: string | undefined;
}

/** Per-entry cost of a fingerprint (id, key, digest, version), for the byte bound. */
const KNOWN_ENTRY_BYTES = 256;

/**
 * The sessions this process knows, by id, bounded in count and bytes: a fingerprint of
 * each, and with the cache on, its encoded payload too.
 */
export class SessionTable {
  private readonly entries: BoundedLru<Known>;

  constructor(
    maxEntries: number,
    maxBytes: number,
    /** Whether entries keep the encoded session (the cache is on). */
    private readonly caching: boolean,
  ) {
    this.entries = new BoundedLru(maxEntries, maxBytes);
  }

  get(id: string): Known | undefined {
    return this.entries.get(id);
  }

  /**
   * What an entry keeps of the encoded session `bytes` (text as UTF-8): a copy in a buffer
   * of its own with the cache on (a view into a larger buffer, a record read whole or Node's
   * shared pool, would keep all of it alive), nothing without.
   */
  payloadOf(bytes: Uint8Array | string): Uint8Array | undefined {
    if (!this.caching) return undefined;
    // A short string's Buffer.from is a view into Node's pool: copied out of it too.
    if (typeof bytes === 'string') return new Uint8Array(Buffer.from(bytes, 'utf8'));
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? bytes
      : new Uint8Array(bytes);
  }

  /**
   * Notes `next` as what the store knows of session `id`. Without a cached payload, the
   * entry `previous` (read before an await) is updated in place while it is still the one
   * in the table: the table's entries live long enough to reach the old generation, where
   * a new object per save would be garbage for the slow collector.
   */
  remember(id: string, previous: Known | undefined, next: Known): void {
    if (
      previous !== undefined &&
      previous.payload === undefined &&
      next.payload === undefined &&
      this.entries.get(id) === previous
    ) {
      previous.digest = next.digest;
      previous.cookieExpires = next.cookieExpires;
      previous.expiresAt = next.expiresAt;
      previous.version = next.version;
      previous.seen = next.seen;
      previous.owner = next.owner;
      return;
    }
    this.entries.set(id, next, KNOWN_ENTRY_BYTES + (next.payload?.byteLength ?? 0));
  }

  forget(id: string): void {
    this.entries.delete(id);
  }

  /** Forgets the session stored under `key`. */
  forgetKey(key: string): void {
    const id = sessionIdOf(key);
    if (id !== null) this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }
}
