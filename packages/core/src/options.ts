import type { FsAdapter } from './adapter.js';
import { jsonCodec, type SessionCodec } from './codec.js';
import { type EncryptionOptions, RecordCipher } from './encryption.js';
import { ErrorCodes, SessionStoreError } from './errors.js';
import { type StoreLogger, stderrLogger } from './logger.js';
import type { OwnerOf } from './owner-index.js';
import {
  QUARANTINE_MAX_AGE_MS,
  QUARANTINE_MAX_RECORDS,
  type QuarantineOptions,
} from './quarantine.js';
import { DAY_MS } from './session-shape.js';

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

/**
 * Options of {@link createSessionStore}. `S` is the session type `owner` is given; it is
 * `any` by default so that `owner: (s) => s.user?.id` needs no annotation.
 */
// biome-ignore lint/suspicious/noExplicitAny: the default lets `owner` read any session shape.
export interface SessionStoreOptions<S = any> {
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
   * Encrypt sessions at rest (AES-256-GCM) with `keys[0]`, reading any of `keys`. Default
   * off. See the README for key generation and rotation.
   */
  encryption?: EncryptionOptions;
  /**
   * Keep recently used sessions (encoded, so callers always get a fresh copy). Default
   * `false`: off. Without it the store still remembers a small fingerprint per session
   * to skip unchanged writes.
   */
  cache?: false | CacheOptions;
  /**
   * How far, in ms, the stored expiry of an unchanged session may trail its cookie's. A
   * save whose data did not change moves the stored expiry only once the new expiry is
   * more than this past the stored one; otherwise it does no I/O at all. Default 1% of the
   * session's lifetime (its cookie's `originalMaxAge`, else `ttl`), at most one minute;
   * `0` moves it on every save.
   */
  touchAfter?: number;
  /**
   * How often, in ms, the background reaper removes expired sessions. Default
   * 10 minutes; `false` turns it off (call `reap()` yourself).
   */
  reapInterval?: number | false;
  /**
   * Most adapter operations under way at once while listing, reaping or clearing. Default
   * 4: libuv runs file operations on 4 threads, so more would only queue there.
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
  /**
   * Names the owner of a session (`(s) => s.user?.id`): a string or a number, or
   * `undefined` for none. The store then keeps, per owner, the set of their sessions, for
   * `sessionsOf(owner)` and `destroyOwner(owner)` ("log out everywhere"). Needs an
   * adapter with an owner index (`adapter.owners`). A function that returns anything else
   * makes `set` fail with `ERR_INVALID_OPTION`, and nothing is written. Default: none.
   */
  owner?: OwnerOf<S>;
  /** The clock, in epoch ms. Default `Date.now`; tests pass a virtual one. */
  now?: () => number;
}

/** The options with every default filled in and every value checked. */
export interface StoreSettings {
  readonly adapter: FsAdapter;
  readonly ttl: number;
  readonly codec: SessionCodec;
  /** Seals and opens payloads, when `encryption` is on. */
  readonly cipher: RecordCipher | undefined;
  readonly concurrency: number;
  readonly maxRecordBytes: number;
  readonly logger: StoreLogger;
  readonly now: () => number;
  /** The cache, or `undefined` when it is off. */
  readonly cache: { readonly mode: 'shared' | 'exclusive' } | undefined;
  /** Bounds of the table of known sessions (and of the cache, when it is on). */
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly maxSessions: number | undefined;
  readonly quarantine: { readonly maxAge: number; readonly maxRecords: number };
  readonly reapInterval: number | false;
  /** `touchAfter`, or `undefined` for the default rule (see {@link touchAfterFor}). */
  readonly touchAfter: number | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: the store applies it to its own session type.
  readonly owner: OwnerOf<any> | undefined;
}

/** The default `touchAfter`: this share of a session's lifetime, up to the cap. */
const TOUCH_AFTER_SHARE = 0.01;
const TOUCH_AFTER_CAP_MS = 60_000;

/** How far the stored expiry of an unchanged session living `lifetime` ms may trail. */
export function touchAfterFor(touchAfter: number | undefined, lifetime: number): number {
  return touchAfter ?? Math.min(lifetime * TOUCH_AFTER_SHARE, TOUCH_AFTER_CAP_MS);
}

/** Checks `options` and fills in the defaults. Throws `ERR_INVALID_OPTION`. */
export function resolveOptions(options: SessionStoreOptions): StoreSettings {
  const adapter = options?.adapter;
  if (!adapter || typeof adapter.read !== 'function' || typeof adapter.write !== 'function') {
    invalid('option `adapter` must be an FsAdapter');
  }
  const cache = options.cache || undefined;
  if (cache?.mode !== undefined && cache.mode !== 'shared' && cache.mode !== 'exclusive') {
    invalid("option `cache.mode` must be 'shared' or 'exclusive'");
  }
  if (options.owner !== undefined) {
    if (typeof options.owner !== 'function') {
      invalid('option `owner` must be a function of the session, like (s) => s.user?.id');
    }
    if (!adapter.owners) {
      invalid(
        'option `owner` needs an adapter that keeps an owner index (adapter.owners); this one does not',
      );
    }
  }
  const reapInterval = options.reapInterval ?? 10 * 60 * 1000;
  if (reapInterval !== false) positive('reapInterval', reapInterval, 0);
  return {
    adapter,
    ttl: positive('ttl', options.ttl, DAY_MS),
    codec: options.codec ?? jsonCodec,
    cipher: options.encryption === undefined ? undefined : new RecordCipher(options.encryption),
    concurrency: Math.floor(positive('concurrency', options.concurrency, 4)),
    maxRecordBytes: positive('maxRecordBytes', options.maxRecordBytes, 1024 * 1024),
    logger: options.logger ?? stderrLogger,
    now: options.now ?? Date.now,
    cache: cache && { mode: cache.mode ?? 'shared' },
    touchAfter:
      options.touchAfter === undefined ? undefined : atLeastZero('touchAfter', options.touchAfter),
    maxEntries: Math.floor(positive('cache.maxEntries', cache?.maxEntries, 10_000)),
    maxBytes: positive('cache.maxBytes', cache?.maxBytes, 16 * 1024 * 1024),
    maxSessions:
      options.maxSessions === undefined
        ? undefined
        : Math.floor(positive('maxSessions', options.maxSessions, 0)),
    quarantine: {
      maxAge: positive('quarantine.maxAge', options.quarantine?.maxAge, QUARANTINE_MAX_AGE_MS),
      maxRecords: Math.floor(
        positive('quarantine.maxRecords', options.quarantine?.maxRecords, QUARANTINE_MAX_RECORDS),
      ),
    },
    reapInterval,
    owner: options.owner,
  };
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    invalid(`option \`${name}\` must be a positive number, got ${String(value)}`);
  }
  return value;
}

function atLeastZero(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    invalid(`option \`${name}\` must be a number of ms, 0 or more, got ${String(value)}`);
  }
  return value;
}

function invalid(message: string): never {
  throw new SessionStoreError(ErrorCodes.INVALID_OPTION, `@sessionfs/core: ${message}`);
}
