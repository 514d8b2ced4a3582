import type { AdapterStat, DeleteOptions, FsAdapter, StoredValue } from './adapter.js';
import { BoundedLru } from './bounded-lru.js';
import { jsonCodec, type SessionCodec } from './codec.js';
import { type ErrorCode, ErrorCodes, hasErrorCode, SessionStoreError } from './errors.js';
import { type StoreLogger, stderrLogger } from './logger.js';
import { mapConcurrently } from './map-concurrently.js';
import {
  pruneQuarantine,
  QUARANTINE_MAX_AGE_MS,
  QUARANTINE_MAX_RECORDS,
  type QuarantineOptions,
} from './quarantine.js';
import { SessionQuota } from './quota.js';
import { digestOf, encodeRecord, headerRoom, parseRecord, payloadLength } from './record.js';
import { redactKey } from './redaction.js';
import {
  corruptKey,
  isDigestKey,
  isSessionKey,
  SESSION_PREFIX,
  sessionIdOf,
  sessionKey,
} from './session-id.js';
import { DAY_MS, prepareSession, restoreSession } from './session-shape.js';

/** The data of a session as the store sees it: any value the codec can encode. */
export type SessionData = Record<string, unknown>;

/** Options of the optional session cache. */
export interface CacheOptions {
  /**
   * `'shared'` (default): other processes may write the same directory, so every cache
   * hit is confirmed with one `stat` (no read, no decode of the file). `'exclusive'`:
   * this process alone owns the directory and the cache is trusted as it is.
   */
  mode?: 'shared' | 'exclusive';
  /** Most sessions kept. Default 10,000. */
  maxEntries?: number;
  /** Most encoded bytes kept. Default 16 MiB. */
  maxBytes?: number;
}

/** Options of {@link createSessionStore}. */
export interface SessionStoreOptions {
  /** Where the bytes go: `@sessionfs/adapter-node`, `@sessionfs/adapter-memory`, … */
  adapter: FsAdapter;
  /**
   * Lifetime in ms of a session whose cookie carries neither `expires` nor
   * `originalMaxAge`. Default one day.
   */
  ttl?: number;
  /** Encodes sessions to bytes and back. Default JSON. */
  codec?: SessionCodec;
  /**
   * Keep recently used sessions (encoded, so callers always get a fresh copy). Default
   * `false`: off. Without it the store still remembers a small fingerprint per session
   * to skip unchanged writes.
   */
  cache?: false | CacheOptions;
  /**
   * How often, in ms, the background reaper removes expired sessions. Default
   * 10 minutes; `false` turns it off (call `reap()` yourself).
   */
  reapInterval?: number | false;
  /**
   * Most adapter operations under way at once while listing, reaping or clearing. Default
   * 4: libuv runs file operations on 4 threads, so more would only queue there, and the
   * node adapter's synchronous stats and deletes gain nothing from more promises in flight
   * (the reaper ran faster at 4 than at 16 in one-off trials on 50,000 files).
   */
  concurrency?: number;
  /**
   * Largest record the store reads, in bytes; a larger one is treated as corrupt and
   * set aside unread, and a larger session is refused by `set`. Default 1 MiB.
   */
  maxRecordBytes?: number;
  /**
   * Most sessions stored: a new session beyond it is refused with `ERR_QUOTA_EXCEEDED`
   * (a session already stored is always saved again). Bounds the space a flood of logins
   * can take, at most `maxSessions` × `maxRecordBytes`. The count comes from listing the
   * store, taken at most once a minute (and by each reaper run); see the README for how
   * several processes share it. Default: no bound.
   */
  maxSessions?: number;
  /**
   * How long, and how many, records set aside as unreadable are kept for inspection
   * before the reaper removes them. Default `{ maxAge: 3 days, maxRecords: 1,000 }`.
   */
  quarantine?: QuarantineOptions;
  /**
   * Where to report corrupt records, reaper runs and background errors. Default stderr.
   * Session ids and session data never reach it: keys are shortened (`redactKey`).
   */
  logger?: StoreLogger;
  /** The clock, in epoch ms. Default `Date.now`; tests pass a virtual one. */
  now?: () => number;
}

/** What one run of the reaper did. */
export interface ReapResult {
  /** Session records looked at. */
  readonly scanned: number;
  /** Expired session records removed. */
  readonly removed: number;
  /** Leftovers of interrupted writes removed (temp files of a process that died mid-write). */
  readonly leftovers: number;
  /** Records set aside long enough ago (or beyond the count kept) that were removed. */
  readonly setAsideRemoved: number;
}

/**
 * A session store over an `FsAdapter`. Every method returns a promise (or an async
 * iterable) and never throws synchronously; failures are `SessionStoreError`s.
 */
export interface SessionStore<S = SessionData> {
  /** The adapter the store runs on. */
  readonly adapter: FsAdapter;
  /**
   * The session stored under `id`, as a fresh object the caller may change freely, or
   * `null` when there is none, it expired, or its record is corrupt (then set aside and
   * logged). Rejects with `ERR_INVALID_ID` for an id that cannot be stored, and with the
   * adapter's error when the medium fails: an outage is not turned into "logged out".
   */
  get(id: string): Promise<S | null>;
  /**
   * Stores `session` under `id`, atomically. Expiry comes from `session.cookie.expires`,
   * else `cookie.originalMaxAge`, else `ttl`. An unchanged session is not rewritten, and
   * one whose only change is its expiry becomes an expiry move where the adapter can.
   * On failure (`ERR_ENCODE_FAILED`, `ERR_TOO_LARGE`, I/O) the stored session is intact.
   */
  set(id: string, session: S): Promise<void>;
  /** Moves the expiry of the stored session `id` to that of `session`; creates nothing. */
  touch(id: string, session: S): Promise<void>;
  /** Removes the session `id`. Idempotent. */
  destroy(id: string): Promise<void>;
  /** How many unexpired sessions are stored. Streams the listing; O(1) memory. */
  length(): Promise<number>;
  /** The ids of unexpired sessions, streamed. */
  ids(): AsyncIterable<string>;
  /** The unexpired sessions with their ids, streamed. */
  entries(): AsyncIterable<[string, S]>;
  /** Removes every session, and nothing else; resolves how many were removed. */
  clear(): Promise<number>;
  /** Removes expired sessions now; the background reaper calls this. */
  reap(): Promise<ReapResult>;
  /** Stops the reaper, waits for a running reap, closes the adapter. Idempotent. */
  close(): Promise<void>;
}

/**
 * What the store remembers of a session it read or wrote, by session id: a session in
 * use costs no key encoding, and its next read no digest check while unchanged.
 */
interface Known {
  /** The adapter key of the session. */
  readonly key: string;
  /** Digest of the encoded session, without its expiry; none where the store writes none. */
  digest: string | undefined;
  cookieExpires: boolean;
  expiresAt: number;
  /** The adapter's version of the record as last seen, if known. */
  version: string | undefined;
  /** The encoded session, when the cache is on. */
  readonly payload: Uint8Array | undefined;
}

/** Temp files older than this belong to a write that will never finish. */
const LEFTOVER_AGE_MS = 60_000;
/** How soon after start the reaper first runs. */
const FIRST_REAP_DELAY_MS = 5_000;
/** Per-entry cost of a fingerprint (id, key, digest, version), for the byte bound. */
const KNOWN_ENTRY_BYTES = 256;

/** Creates a session store. Throws `ERR_INVALID_OPTION` for options it cannot work with. */
export function createSessionStore<S = SessionData>(options: SessionStoreOptions): SessionStore<S> {
  return new FileBackedSessionStore<S>(options);
}

/**
 * `bytes` in a buffer of their own, for the cache: a view into a larger buffer (a record
 * read whole, Node's shared pool of small buffers) would keep all of it alive.
 */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : new Uint8Array(bytes);
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      `@sessionfs/core: option \`${name}\` must be a positive number, got ${String(value)}`,
    );
  }
  return value;
}

class FileBackedSessionStore<S> implements SessionStore<S> {
  readonly adapter: FsAdapter;
  private readonly ttl: number;
  private readonly codec: SessionCodec;
  private readonly concurrency: number;
  private readonly maxRecordBytes: number;
  private readonly logger: StoreLogger;
  private readonly now: () => number;
  private readonly caching: boolean;
  private readonly exclusive: boolean;
  private readonly known: BoundedLru<Known>;
  private readonly storesExpiry: boolean;
  /** Whether an unchanged session is written rather than checked and touched. */
  private readonly writesUnchanged: boolean;
  /**
   * Whether saves carry a digest: only where one can be skipped as unchanged (an exclusive
   * cache skips even over an adapter with cheap writes).
   */
  private readonly fingerprints: boolean;
  /**
   * Whether the table keeps the versions the adapter reports: only where a version check
   * can spare work (skipping an unchanged save, confirming a cached session). Over cheap
   * writes without a cache nothing asks, nor in an exclusive store (nobody else writes);
   * there a new version string per save, held by a long-lived table entry, would only be
   * garbage for the collector to copy and promote.
   */
  private readonly keepsVersions: boolean;
  private readonly quota: SessionQuota | undefined;
  private readonly quarantineMaxAge: number;
  private readonly quarantineMaxRecords: number;
  private readonly reaper: NodeJS.Timeout | undefined;
  private readonly firstReap: NodeJS.Timeout | undefined;
  private reaping: Promise<ReapResult> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: SessionStoreOptions) {
    const adapter = options?.adapter;
    if (!adapter || typeof adapter.read !== 'function' || typeof adapter.write !== 'function') {
      throw new SessionStoreError(
        ErrorCodes.INVALID_OPTION,
        '@sessionfs/core: option `adapter` must be an FsAdapter',
      );
    }
    this.adapter = adapter;
    this.ttl = positive('ttl', options.ttl, DAY_MS);
    this.codec = options.codec ?? jsonCodec;
    this.concurrency = Math.floor(positive('concurrency', options.concurrency, 4));
    this.maxRecordBytes = positive('maxRecordBytes', options.maxRecordBytes, 1024 * 1024);
    this.logger = options.logger ?? stderrLogger;
    this.now = options.now ?? Date.now;
    this.storesExpiry =
      typeof adapter.stat === 'function' &&
      typeof adapter.touch === 'function';
    this.writesUnchanged = adapter.capabilities.cheapWrites === true;

    const cache = options.cache || undefined;
    this.caching = cache !== undefined;
    this.exclusive = cache?.mode === 'exclusive';
    this.fingerprints = !this.writesUnchanged || this.exclusive;
    this.keepsVersions = (!this.writesUnchanged || this.caching) && !this.exclusive;
    if (cache?.mode !== undefined && cache.mode !== 'shared' && cache.mode !== 'exclusive') {
      throw new SessionStoreError(
        ErrorCodes.INVALID_OPTION,
        "@sessionfs/core: option `cache.mode` must be 'shared' or 'exclusive'",
      );
    }
    this.known = new BoundedLru(
      Math.floor(positive('cache.maxEntries', cache?.maxEntries, 10_000)),
      positive('cache.maxBytes', cache?.maxBytes, 16 * 1024 * 1024),
    );
    this.quarantineMaxAge = positive(
      'quarantine.maxAge',
      options.quarantine?.maxAge,
      QUARANTINE_MAX_AGE_MS,
    );
    this.quarantineMaxRecords = Math.floor(
      positive('quarantine.maxRecords', options.quarantine?.maxRecords, QUARANTINE_MAX_RECORDS),
    );
    if (options.maxSessions !== undefined) {
      this.quota = new SessionQuota(
        Math.floor(positive('maxSessions', options.maxSessions, 0)),
        () => this.countSessions(),
        this.now,
        () => this.reapInBackground(),
      );
    }

    const interval = options.reapInterval ?? 10 * 60 * 1000;
    if (interval !== false) {
      positive('reapInterval', interval, 0);
      const reapInBackground = () => this.reapInBackground();
      // Timers overflow past 2^31 - 1 ms (and would then fire at once): cap the period.
      this.reaper = setInterval(reapInBackground, Math.min(interval, 2 ** 31 - 1));
      // A first pass soon after start clears what a crashed predecessor left behind.
      this.firstReap = setTimeout(reapInBackground, Math.min(interval, FIRST_REAP_DELAY_MS));
      // The reaper must never keep a process alive on its own.
      this.reaper.unref();
      this.firstReap.unref();
    }
  }

  async get(id: string): Promise<S | null> {
    this.assertOpen();
    const now = this.now();
    // A known id was checked and encoded when it became known.
    const known = this.known.get(id);
    const key = known?.key ?? sessionKey(id);
    if (known?.payload) {
      const expiresAt = await this.confirmCached(key, known);
      if (expiresAt === null) {
        this.known.delete(id);
      } else if (expiresAt !== undefined) {
        if (expiresAt <= now) return this.dropExpired(id, key, now, known.version);
        return this.decode(known.payload, expiresAt, known.cookieExpires) as S;
      }
    }

    let value: StoredValue | null;
    try {
      value = await this.adapter.read(key, { maxBytes: this.maxRecordBytes });
    } catch (error) {
      if (hasErrorCode(error, ErrorCodes.TOO_LARGE)) return this.setAsideTooLarge(id, key);
      if (hasErrorCode(error, ErrorCodes.FOREIGN_ENTRY)) {
        this.known.delete(id);
        this.logger.warn(
          { key: redactKey(key), reason: error.message },
          '@sessionfs/core: something other than a session record sits under a session key; it is left alone and the session reads as missing',
        );
        return null;
      }
      throw this.failure(error, 'read');
    }
    if (value === null) {
      this.known.delete(id);
      return null;
    }

    // The same version as the store last wrote or checked: the same bytes, checked then.
    const sameAsKnown =
      known !== undefined && known.version !== undefined && known.version === value.version;
    const record = parseRecord(value.data, sameAsKnown ? known.digest : undefined);
    if ('corrupt' in record) {
      await this.setAside(key, id, record.corrupt, value);
      return null;
    }
    // The key of a long id is a digest of it: its record must name this very id.
    if ((record.id !== undefined || isDigestKey(key)) && record.id !== id) {
      await this.setAside(key, id, 'record holds another session id', value);
      return null;
    }
    // An adapter that keeps expiry holds the latest one: `touch` moves only that.
    const expiresAt = this.storesExpiry ? (value.expiresAt ?? record.expiresAt) : record.expiresAt;
    if (expiresAt <= now) return this.dropExpired(id, key, now, value.version);

    let session: unknown;
    try {
      session = this.decode(record.payload, expiresAt, record.cookieExpires);
    } catch (error) {
      // The codec's message may quote the record (JSON.parse does): only its name is logged.
      await this.setAside(key, id, `codec cannot decode the record (${errorName(error)})`, value);
      return null;
    }
    // Read back as the store last knew it (its own write, typically): nothing to note.
    if (
      sameAsKnown &&
      !this.caching &&
      known.expiresAt === expiresAt &&
      known.cookieExpires === record.cookieExpires
    ) {
      return session as S;
    }
    this.remember(id, known, {
      key,
      digest: record.digest,
      cookieExpires: record.cookieExpires,
      expiresAt,
      version: this.keepsVersions ? value.version : undefined,
      payload: this.caching ? ownBytes(record.payload) : undefined,
    });
    return session as S;
  }

  async set(id: string, session: S): Promise<void> {
    this.assertOpen();
    const known = this.known.get(id);
    const key = known?.key ?? sessionKey(id);
    const prepared = this.prepare(session);
    const payload = this.encode(prepared.body);
    const length = payloadLength(payload);
    // The record of a long id holds the id: its key is a digest.
    const recordId = isDigestKey(key) ? id : undefined;
    if (length + headerRoom(recordId) > this.maxRecordBytes) {
      throw new SessionStoreError(
        ErrorCodes.TOO_LARGE,
        `@sessionfs/core: session encodes to ${length} bytes, over maxRecordBytes (${this.maxRecordBytes})`,
      );
    }
    // The digest tells an unchanged session: computed only where that can spare a write.
    const digest = this.fingerprints ? digestOf(payload) : undefined;

    if (
      known &&
      digest !== undefined &&
      known.digest === digest &&
      known.cookieExpires === prepared.cookieExpires
    ) {
      if (known.expiresAt === prepared.expiresAt) {
        if (this.exclusive) return;
        if (!this.writesUnchanged && (await this.isCurrent(key, known))) return;
      } else if (
        !this.writesUnchanged &&
        (await this.moveExpiryIfCurrent(id, key, prepared.expiresAt, known))
      ) {
        return;
      }
    }

    const isNew = this.quota !== undefined && known === undefined && !(await this.isStored(key));
    if (isNew) await this.quota?.admit();

    const record = encodeRecord(
      {
        expiresAt: prepared.expiresAt,
        cookieExpires: prepared.cookieExpires,
        digest,
        id: recordId,
      },
      payload,
      length,
    );
    let version: string | undefined;
    try {
      version = (await this.adapter.write(key, record, { expiresAt: prepared.expiresAt })).version;
    } catch (error) {
      this.known.delete(id);
      throw this.failure(error, 'write');
    }
    if (isNew) this.quota?.added();
    this.remember(id, known, {
      key,
      digest,
      cookieExpires: prepared.cookieExpires,
      expiresAt: prepared.expiresAt,
      // The version of this very write, from the adapter: a stat now could describe a
      // write another process made meanwhile. Without one, the next save writes again.
      version: this.keepsVersions ? version : undefined,
      // The payload as the record holds it, text or bytes alike.
      payload: this.caching ? ownBytes(record.subarray(record.byteLength - length)) : undefined,
    });
  }

  async touch(id: string, session: S): Promise<void> {
    this.assertOpen();
    const known = this.known.get(id);
    const key = known?.key ?? sessionKey(id);
    const { expiresAt } = this.prepare(session);
    if (!this.keepsExpiry(expiresAt)) return this.rewriteExpiry(id, key, expiresAt);
    const now = this.now();
    // Expired when last seen here: it is gone, and moving its expiry would bring it back.
    if (known && known.expiresAt <= now) return;
    // Whatever this store remembers, the adapter moves the expiry only of a record that is
    // live in the medium: another process may have shortened it meanwhile.
    try {
      if (known) await this.moveExpiry(id, key, expiresAt, known);
      else await this.adapter.touch?.(key, expiresAt, { ifLiveAt: now });
    } catch (error) {
      // A record whose expiry this process may not set (in a directory shared by a group,
      // a file another user's process wrote) can still be written again.
      if (hasErrorCode(error, ErrorCodes.PERMISSION)) return this.rewriteExpiry(id, key, expiresAt);
      throw this.failure(error, 'touch');
    }
  }

  async destroy(id: string): Promise<void> {
    this.assertOpen();
    const key = this.known.get(id)?.key ?? sessionKey(id);
    this.known.delete(id);
    let removed: boolean;
    try {
      removed = await this.adapter.delete(key);
    } catch (error) {
      throw this.failure(error, 'delete');
    }
    if (removed) this.quota?.removed();
  }

  async length(): Promise<number> {
    let count = 0;
    for await (const _ of this.ids()) count += 1;
    return count;
  }

  async *ids(): AsyncIterable<string> {
    this.assertOpen();
    const now = this.now();
    const live = mapConcurrently(this.listSessionKeys(), this.concurrency, async (key) => {
      const id = await this.idOf(key);
      return id !== null && (await this.expiryOf(key)) > now ? id : null;
    });
    for await (const id of live) if (id !== null) yield id;
  }

  async *entries(): AsyncIterable<[string, S]> {
    this.assertOpen();
    const sessions = mapConcurrently(this.listSessionKeys(), this.concurrency, async (key) => {
      const id = await this.idOf(key);
      if (id === null) return null;
      const session = await this.get(id);
      return session === null ? null : ([id, session] as [string, S]);
    });
    for await (const entry of sessions) if (entry !== null) yield entry;
  }

  async clear(): Promise<number> {
    this.assertOpen();
    let removed = 0;
    const deletions = mapConcurrently(this.listSessionKeys(), this.concurrency, (key) =>
      this.adapter.delete(key),
    );
    try {
      for await (const wasRemoved of deletions) if (wasRemoved) removed += 1;
    } catch (error) {
      throw this.failure(error, 'clear');
    } finally {
      this.known.clear();
    }
    this.quota?.counted(0);
    return removed;
  }

  reap(): Promise<ReapResult> {
    try {
      this.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    // One reap at a time: a timer tick during a long reap joins it.
    this.reaping ??= this.reapExpired().finally(() => {
      this.reaping = undefined;
    });
    return this.reaping;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.reaper) clearInterval(this.reaper);
      if (this.firstReap) clearTimeout(this.firstReap);
      await this.reaping?.catch(() => {});
      this.known.clear();
      await this.adapter.close?.();
    })();
    return this.closing;
  }

  private reapInBackground(): void {
    if (this.closing) return;
    this.reap().catch((error: unknown) => {
      if (!hasErrorCode(error, ErrorCodes.CLOSED)) {
        this.logger.error({ err: error }, '@sessionfs/core: background reap failed');
      }
    });
  }

  private async reapExpired(): Promise<ReapResult> {
    const started = this.now();
    let scanned = 0;
    let removed = 0;
    let failures = 0;
    let leftovers = 0;
    let setAsideRemoved = 0;
    let busy = false;
    try {
      leftovers = (await this.adapter.cleanup?.(LEFTOVER_AGE_MS)) ?? 0;
    } catch (error) {
      failures += 1;
      this.logger.warn(
        { err: error },
        '@sessionfs/core: could not clean up after interrupted writes',
      );
    }
    // A backend with native expiry frees space itself: it is listed only to count sessions.
    const nativeExpiry = this.adapter.capabilities.nativeExpiry;
    const keys = nativeExpiry && !this.quota ? noKeys() : this.listSessionKeys();
    const outcomes = mapConcurrently(keys, this.concurrency, async (key) => {
      if (nativeExpiry) return 'kept';
      try {
        if (!(await this.removeIfExpired(key, started))) return 'kept';
        this.forget(key);
        return 'removed';
      } catch (error) {
        if (hasErrorCode(error, ErrorCodes.BUSY)) return 'busy';
        if (failures++ === 0) {
          this.logger.warn(
            { err: error, key: redactKey(key) },
            '@sessionfs/core: reaper could not check a session',
          );
        }
        return 'kept';
      }
    });
    try {
      for await (const outcome of outcomes) {
        if (outcome === 'busy') {
          // Another process is reaping this storage right now: it does the work.
          busy = true;
          break;
        }
        scanned += 1;
        if (outcome === 'removed') removed += 1;
        // Stop early on close rather than keep the adapter busy.
        if (this.closing) break;
      }
    } catch (error) {
      throw this.failure(error, 'list');
    }
    if (!busy && !this.closing) {
      this.quota?.counted(scanned - removed);
      try {
        setAsideRemoved = await pruneQuarantine(
          this.adapter,
          started,
          this.quarantineMaxAge,
          this.quarantineMaxRecords,
          this.concurrency,
        );
      } catch (error) {
        failures += 1;
        this.logger.warn({ err: error }, '@sessionfs/core: could not remove old records set aside');
      }
    }
    this.logger.info?.(
      { scanned, removed, leftovers, setAsideRemoved, failures, busy, ms: this.now() - started },
      '@sessionfs/core: reaped expired sessions',
    );
    return { scanned, removed, leftovers, setAsideRemoved };
  }

  /**
   * Removes the record under `key` if it expired by `cutoff`, in one adapter call that
   * checks and removes together: a record written or touched meanwhile, here or by
   * another process, is never removed.
   */
  private async removeIfExpired(key: string, cutoff: number): Promise<boolean> {
    if (this.storesExpiry) return this.adapter.delete(key, { ifExpiredAt: cutoff });
    // The expiry is in the record: read it, and remove that very version.
    const listed = await this.readListed(key);
    // Corrupt records are for `get` to set aside, not for the reaper to delete.
    if (listed === null || 'corrupt' in listed.record || listed.record.expiresAt > cutoff) {
      return false;
    }
    return this.adapter.delete(key, unlessRewritten(listed.value));
  }

  /** The expiry of the record under `key`; 0 when gone, so callers treat it as expired. */
  private async expiryOf(key: string): Promise<number> {
    if (this.adapter.capabilities.nativeExpiry) return Number.POSITIVE_INFINITY;
    if (this.storesExpiry) {
      const stat = (await this.adapter.stat?.(key)) ?? null;
      if (stat === null) return 0;
      return stat.expiresAt ?? Number.POSITIVE_INFINITY;
    }
    const listed = await this.readListed(key);
    if (listed === null) return 0;
    // Corrupt records are for `get` to set aside, not for the reaper to delete.
    return 'corrupt' in listed.record ? Number.POSITIVE_INFINITY : listed.record.expiresAt;
  }

  /**
   * The session id whose key is `key`: spelled out in the key, or, for the digest key of a
   * long id, held by its record. `null` when the record is gone or names no id.
   */
  private async idOf(key: string): Promise<string | null> {
    const spelled = sessionIdOf(key);
    if (spelled !== null) return spelled;
    const record = (await this.readListed(key))?.record;
    return record === undefined || 'corrupt' in record ? null : (record.id ?? null);
  }

  /**
   * The record under a listed key, for listings and the reaper: `null` when it is gone, or
   * cannot be read at all (too large, not a record); `get` reports those.
   */
  private async readListed(key: string): Promise<{
    value: StoredValue;
    record: ReturnType<typeof parseRecord>;
  } | null> {
    let value: StoredValue | null;
    try {
      value = await this.adapter.read(key, { maxBytes: this.maxRecordBytes });
    } catch (error) {
      if (
        hasErrorCode(error, ErrorCodes.TOO_LARGE) ||
        hasErrorCode(error, ErrorCodes.FOREIGN_ENTRY)
      ) {
        return null;
      }
      throw error;
    }
    return value === null ? null : { value, record: parseRecord(value.data) };
  }

  /**
   * The keys of sessions, and nothing else: files another program left under the session
   * prefix (`s.json`, `s.1`, `s.backup.tar`) are never counted, listed, reaped or cleared.
   */
  private async *listSessionKeys(): AsyncIterable<string> {
    for await (const key of this.adapter.list(SESSION_PREFIX)) {
      if (isSessionKey(key)) yield key;
    }
  }

  /** How many session records the store holds, expired or not (for `maxSessions`). */
  private async countSessions(): Promise<number> {
    let count = 0;
    for await (const _ of this.listSessionKeys()) count += 1;
    return count;
  }

  /** Whether a record is stored under `key` (for `maxSessions`: is this a new session?). */
  private async isStored(key: string): Promise<boolean> {
    try {
      if (this.adapter.stat) return (await this.adapter.stat(key)) !== null;
      return (await this.adapter.read(key, { maxBytes: this.maxRecordBytes })) !== null;
    } catch (error) {
      if (hasErrorCode(error, ErrorCodes.TOO_LARGE)) return true;
      throw this.failure(error, 'read');
    }
  }

  /**
   * Whether a cached session is still what the adapter holds. Resolves its current
   * expiry when it is, `undefined` when it must be read again, `null` when it is gone.
   */
  private async confirmCached(key: string, known: Known): Promise<number | null | undefined> {
    if (this.exclusive) return known.expiresAt;
    if (!this.adapter.stat || known.version === undefined) return undefined;
    let stat: AdapterStat | null;
    try {
      stat = await this.adapter.stat(key);
    } catch (error) {
      throw this.failure(error, 'read');
    }
    if (stat === null) return null;
    if (stat.version !== known.version) return undefined;
    return this.storesExpiry ? (stat.expiresAt ?? known.expiresAt) : known.expiresAt;
  }

  /**
   * Whether what the store remembers of `key` still describes the stored record: the same
   * version, and, where the adapter keeps expiries, the same expiry (another process may
   * have moved it, even into the past).
   */
  private async isCurrent(key: string, known: Known): Promise<boolean> {
    if (this.exclusive) return true;
    if (known.version === undefined || !this.adapter.stat) return false;
    try {
      const stat = await this.adapter.stat(key);
      if (stat?.version !== known.version) return false;
      if (!this.storesExpiry) return true;
      // An expiry past what the adapter keeps reads back as none.
      const expected = this.keepsExpiry(known.expiresAt) ? known.expiresAt : undefined;
      return stat.expiresAt === expected;
    } catch {
      return false;
    }
  }

  /**
   * The rolling save of an unchanged session: moves the expiry, in one adapter call, only
   * while the record is still the one the store knows (another process may have written
   * since) and still live (another process may have let it expire). False when it is not,
   * or cannot be told: the caller writes.
   */
  private async moveExpiryIfCurrent(
    id: string,
    key: string,
    expiresAt: number,
    known: Known,
  ): Promise<boolean> {
    if (!this.exclusive && known.version === undefined) return false;
    try {
      return await this.moveExpiry(id, key, expiresAt, known, known.version);
    } catch (error) {
      // Not allowed to move this record's expiry (see `touch`): it is written instead.
      if (hasErrorCode(error, ErrorCodes.PERMISSION)) return false;
      throw this.failure(error, 'touch');
    }
  }

  /** Whether the adapter can hold `expiresAt` itself, so that `touch` can move it there. */
  private keepsExpiry(expiresAt: number): boolean {
    return (
      this.storesExpiry &&
      expiresAt <= (this.adapter.capabilities.expiresUntil ?? Number.POSITIVE_INFINITY)
    );
  }

  /**
   * Moves the stored expiry without a rewrite, of a record that is live now (and still
   * `ifVersion`, when given); false when it is not, or when the adapter cannot hold that
   * expiry (the caller writes instead). The adapter's errors reach the caller as they are.
   */
  private async moveExpiry(
    id: string,
    key: string,
    expiresAt: number,
    known: Known,
    ifVersion?: string,
  ): Promise<boolean> {
    if (!this.keepsExpiry(expiresAt)) return false;
    const ifLiveAt = this.now();
    const moved =
      (await this.adapter.touch?.(
        key,
        expiresAt,
        ifVersion === undefined ? { ifLiveAt } : { ifVersion, ifLiveAt },
      )) ?? false;
    if (!moved) {
      this.known.delete(id);
      return false;
    }
    known.expiresAt = expiresAt;
    return true;
  }

  /**
   * `touch` where the adapter cannot move the expiry (it keeps none of its own, or not
   * that far ahead): the record is written again with its data as it is and the new
   * expiry, if it is live. (Writing the session handed to `touch` instead would bring back
   * a destroyed or expired session.) A read then a write, which the contract cannot make
   * one: a write landing in between is lost. Adapters that keep expiries never get here
   * but for expiries past their `expiresUntil`.
   */
  private async rewriteExpiry(id: string, key: string, expiresAt: number): Promise<void> {
    this.known.delete(id);
    try {
      const value = await this.adapter.read(key, { maxBytes: this.maxRecordBytes });
      const record = value && parseRecord(value.data);
      if (!record || 'corrupt' in record) return;
      const storedExpiry = this.storesExpiry
        ? (value.expiresAt ?? record.expiresAt)
        : record.expiresAt;
      if (storedExpiry <= this.now()) return;
      await this.adapter.write(key, encodeRecord({ ...record, expiresAt }, record.payload), {
        expiresAt,
      });
    } catch (error) {
      if (hasErrorCode(error, ErrorCodes.FOREIGN_ENTRY)) return;
      throw this.failure(error, 'touch');
    }
  }

  /**
   * Removes a record found expired at `now`, unless another process renewed or rewrote it
   * since: the adapter checks and removes in one step. Resolves `null`, what `get` returns.
   */
  private async dropExpired(
    id: string,
    key: string,
    now: number,
    version: string | undefined,
  ): Promise<null> {
    this.known.delete(id);
    try {
      const removed = await this.adapter.delete(
        key,
        this.storesExpiry ? { ifExpiredAt: now } : unlessRewritten({ version }),
      );
      if (removed) this.quota?.removed();
    } catch (error) {
      // Another process is reaping: it removes the record.
      if (!hasErrorCode(error, ErrorCodes.BUSY)) {
        this.logger.warn(
          { err: error, key: redactKey(key) },
          '@sessionfs/core: could not remove an expired session',
        );
      }
    }
    return null;
  }

  /**
   * `get` of a record too large to read: it is set aside unread, if it still is too large
   * (its version from a `stat` then, so that the move is of that very record). One the
   * `stat` finds small was rewritten since the read (a store never writes a record over
   * `maxRecordBytes`): it is read again.
   */
  private async setAsideTooLarge(id: string, key: string): Promise<S | null> {
    let stat: AdapterStat | null = null;
    try {
      stat = (await this.adapter.stat?.(key)) ?? null;
    } catch (error) {
      throw this.failure(error, 'read');
    }
    if (stat !== null && stat.size <= this.maxRecordBytes) return this.get(id);
    if (stat === null && this.adapter.stat) return null;
    await this.setAside(
      key,
      id,
      `record larger than ${this.maxRecordBytes} bytes`,
      stat ?? undefined,
    );
    return null;
  }

  /**
   * Moves an unreadable record out of the session namespace, for inspection, and logs it
   * once: once moved, the id reads as missing and is not reported again. Only the record
   * found is moved (the version of `found`, when it has one): one rewritten since (another
   * process saved the session) stays.
   */
  private async setAside(
    key: string,
    id: string,
    reason: string,
    found?: StoredValue | AdapterStat,
  ): Promise<void> {
    this.known.delete(id);
    const aside = corruptKey(key, this.now());
    const logged = { key: redactKey(key), setAsideAs: redactKey(aside), reason };
    const value = found !== undefined && 'data' in found ? found : undefined;
    try {
      if (this.adapter.move) {
        const version = found?.version;
        if (
          !(await this.adapter.move(
            key,
            aside,
            version === undefined ? {} : { ifVersion: version },
          ))
        )
          return;
      } else if (value) {
        await this.adapter.write(aside, value.data);
        if (!(await this.adapter.delete(key, unlessRewritten(value)))) {
          await this.adapter.delete(aside);
          return;
        }
      } else {
        this.logger.warn(
          { key: redactKey(key), reason },
          '@sessionfs/core: unreadable session record left in place (adapter cannot move it); the session reads as missing',
        );
        return;
      }
      this.logger.warn(
        logged,
        '@sessionfs/core: unreadable session record set aside; the session reads as missing',
      );
    } catch (error) {
      if (hasErrorCode(error, ErrorCodes.BUSY)) return;
      this.logger.error(
        { err: error, ...logged },
        '@sessionfs/core: could not set an unreadable session record aside',
      );
    }
  }

  private prepare(session: S) {
    try {
      return prepareSession(session, this.now(), this.ttl);
    } catch (error) {
      throw new SessionStoreError(
        ErrorCodes.ENCODE_FAILED,
        '@sessionfs/core: cannot read the session cookie',
        { cause: error },
      );
    }
  }

  /**
   * The codec's encoding of `body`: text is kept as a string (the record takes it as
   * UTF-8 directly), unless it is not well-formed, when it becomes bytes first so that
   * what is hashed and what is written are one and the same.
   */
  private encode(body: unknown): Uint8Array | string {
    try {
      const encoded = this.codec.encode(body);
      if (typeof encoded !== 'string') return encoded;
      return encoded.isWellFormed() ? encoded : Buffer.from(encoded, 'utf8');
    } catch (error) {
      throw new SessionStoreError(
        ErrorCodes.ENCODE_FAILED,
        `@sessionfs/core: cannot encode the session: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  private decode(payload: Uint8Array, expiresAt: number, cookieExpires: boolean): unknown {
    return restoreSession(this.codec.decode(payload), expiresAt, cookieExpires);
  }

  /**
   * Notes `next` as what the store knows of session `id`. Without a cached payload, the
   * entry `previous` (read before an await) is updated in place while it is still the one
   * in the table: the table's entries live long enough to reach the old generation, where
   * a new object per save would be garbage for the slow collector.
   */
  private remember(id: string, previous: Known | undefined, next: Known): void {
    if (
      previous !== undefined &&
      previous.payload === undefined &&
      next.payload === undefined &&
      this.known.get(id) === previous
    ) {
      previous.digest = next.digest;
      previous.cookieExpires = next.cookieExpires;
      previous.expiresAt = next.expiresAt;
      previous.version = next.version;
      return;
    }
    this.known.set(id, next, KNOWN_ENTRY_BYTES + (next.payload?.byteLength ?? 0));
  }

  /** Forgets what the store knew of the session under `key`. */
  private forget(key: string): void {
    const id = sessionIdOf(key);
    if (id !== null) this.known.delete(id);
  }

  private assertOpen(): void {
    if (this.closing) {
      throw new SessionStoreError(ErrorCodes.CLOSED, '@sessionfs/core: the store is closed');
    }
  }

  /** The store's error for an adapter failure, keeping the adapter's code and error. */
  private failure(error: unknown, action: string): SessionStoreError {
    const code: ErrorCode = SessionStoreError.isInstance(error) ? error.code : ErrorCodes.IO;
    return new SessionStoreError(code, `@sessionfs/core: cannot ${action} the session`, {
      cause: error,
    });
  }
}

/**
 * The condition that removes a record only while it is the version read: none for an
 * adapter without versions, which then races a write landing in between (such adapters
 * are for one process).
 */
function unlessRewritten(value: { version?: string | undefined }): DeleteOptions | undefined {
  return value.version === undefined ? undefined : { ifVersion: value.version };
}

/** An empty listing. */
async function* noKeys(): AsyncIterable<string> {
  yield* [];
}

/** An error's name (`SyntaxError`), never its message, which may quote session data. */
function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
