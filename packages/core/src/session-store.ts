import type { FsAdapter } from './adapter.js';
import type { InspectedRecord, InspectOptions } from './inspection.js';
import type { DestroyOwnerOptions } from './owner-index.js';
import type { ReapOptions, ReapResult } from './reaper.js';
import type { RekeyOptions, RekeyResult } from './rekey.js';

/** Options of `set` and `add`. */
export interface SetOptions {
  /**
   * When the session expires (epoch ms), instead of what its cookie or `ttl` says: for
   * imports, which keep each session's expiry.
   */
  expiresAt?: number;
}

/** The data of a session as the store sees it: any value the codec can encode. */
export type SessionData = Record<string, unknown>;

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
  set(id: string, session: S, options?: SetOptions): Promise<void>;
  /**
   * Stores `session` under `id` as `set` does, only if no session is stored under `id`
   * (expired or not); resolves whether it did. For imports, which must never overwrite a
   * session an app is using.
   */
  add(id: string, session: S, options?: SetOptions): Promise<boolean>;
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
  /**
   * The live sessions of `owner` (as the `owner` option names it), with their ids,
   * streamed: O(sessions of that owner), never a scan of the store. Each is confirmed
   * against its own record, so a session that changed owner or ended is never yielded.
   * Needs the `owner` option (`ERR_INVALID_OPTION` otherwise).
   */
  sessionsOf(owner: string | number): AsyncIterable<[string, S]>;
  /**
   * Ends every session of `owner` ("log out everywhere"), except `options.except`, and
   * resolves how many it ended. Every session that is `owner`'s when it starts is ended,
   * also one written by another process; a session logged into by someone else
   * meanwhile is left alone. Needs the `owner` option.
   */
  destroyOwner(owner: string | number, options?: DestroyOwnerOptions): Promise<number>;
  /** Removes every session, and nothing else; resolves how many were removed. */
  clear(): Promise<number>;
  /**
   * Removes expired sessions now, and what interrupted writes left behind; the background
   * reaper calls this. Joins a run under way (whose progress is then not reported).
   */
  reap(options?: ReapOptions): Promise<ReapResult>;
  /**
   * Every stored record, expired and corrupt ones too, streamed, for operators. Changes
   * nothing: an expired record stays until the reaper removes it, a corrupt one is not set
   * aside.
   */
  inspect(options?: InspectOptions): AsyncIterable<InspectedRecord<S>>;
  /**
   * The record under the adapter key `key` (`sessionKey(id)`, or the key of a record set
   * aside), or `null` when there is none. Changes nothing, as `inspect`.
   */
  inspectKey(key: string, options?: InspectOptions): Promise<InspectedRecord<S> | null>;
  /** How many session records the adapter holds, expired or not: a listing, no reads. */
  count(): Promise<number>;
  /**
   * What the reaper would clear besides expired sessions: leftovers of interrupted writes
   * old enough to remove (`null` where the adapter leaves none), and records set aside.
   */
  leftovers(): Promise<{ interruptedWrites: number | null; setAside: number }>;
  /**
   * Seals every stored session that is not sealed with the current key (`encryption.keys[0]`)
   * again with it, streamed, a few at a time, never over a save made meanwhile; afterwards
   * the older keys can be dropped. Stoppable (`signal`) and resumable: a new run goes on
   * where the last one ended. Needs `encryption` and an adapter with `replace`
   * (`ERR_INVALID_OPTION` otherwise).
   */
  rekey(options?: RekeyOptions): Promise<RekeyResult>;
  /** Stops the reaper, waits for a running reap, closes the adapter. Idempotent. */
  close(): Promise<void>;
}
