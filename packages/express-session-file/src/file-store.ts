import type { DestroyOwnerOptions, SessionStore } from '@sessionfs/core';
import { ErrorCodes, hasErrorCode, type SessionStoreError } from '@sessionfs/core';
import {
  type CountCallback,
  type FileSessionStoreOptions,
  type GetCallback as GenericGetCallback,
  SessionBinding,
  type StoreCallback,
} from '@sessionfs/session-binding';
import session, { type SessionData } from 'express-session';

/** Options of {@link FileStore}: a directory or an adapter, plus the engine's options. */
export type FileStoreOptions = FileSessionStoreOptions;

/**
 * Callback of `get`: the session, or `null` when there is none (missing, expired or
 * corrupt), or an error when the medium failed.
 */
export type GetCallback = GenericGetCallback<SessionData>;

/** Every unexpired session, keyed by its id, as express-session's `MemoryStore#all` gives. */
export type SessionsById = Record<string, SessionData>;

/** Callback of `all`. */
export type AllCallback = (error: SessionStoreError | null, sessions?: SessionsById) => void;

/** Callback of `length`. */
export type LengthCallback = (error: SessionStoreError | null, length?: number) => void;

/** Callback of `clear`: with how many sessions were removed. */
export type ClearCallback = (error: SessionStoreError | null, removed?: number) => void;

const PACKAGE_NAME = '@sessionfs/express-session-file';

/**
 * While disconnected, how often the backend is asked whether it is back: express-session
 * stops calling a disconnected store, so no request would ever find out.
 */
const RECONNECT_PROBE_MS = 1_000;

/**
 * An id no generated session has: express-session's ids are 32 random base64url
 * characters. Reading it costs the backend one lookup of a missing record.
 */
const PROBE_ID = 'sessionfs-express-session-file-reconnect-probe';

/**
 * The express-session store of sessionfs: express-session's `Store` interface, bound to
 * the `@sessionfs/core` engine (which owns every rule: ids, expiry, encoding, caching,
 * reaping) through `@sessionfs/session-binding`.
 *
 * Every method takes its callback last and calls it once, asynchronously; without one, it
 * returns a promise instead. Nothing it does can crash the process: a callback that throws
 * is logged, and a promise nobody awaits that rejects is logged rather than left unhandled
 * (express-session hands `req.session.destroy()`'s missing callback straight through).
 *
 * It emits `disconnect` when the backend reports itself unavailable (`ERR_UNAVAILABLE`),
 * and `connect` when it answers again: express-session serves requests without sessions
 * in between, rather than failing them.
 */
export class FileStore extends session.Store {
  /**
   * The store engine, for management: `length()`, `ids()`, `entries()`, `clear()`,
   * `reap()`, and `get`/`set`/`destroy` as promises.
   */
  readonly engine: SessionStore<SessionData>;
  /** The session directory (absolute), or `undefined` for an adapter with none. */
  readonly dir: string | undefined;
  private readonly binding: SessionBinding<SessionData>;
  private disconnected = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `new FileStore('./sessions')` is `new FileStore({ dir: './sessions' })`. */
  constructor(options: FileStoreOptions | string) {
    super();
    this.binding = new SessionBinding<SessionData>(PACKAGE_NAME, options);
    this.engine = this.binding.engine;
    this.dir = this.binding.dir;
  }

  /**
   * The session `sid`, or `null` when there is none: missing, expired, corrupt, or an id
   * that no session can have, so that express-session issues a new one.
   */
  override get(sid: string): Promise<SessionData | null>;
  override get(sid: string, callback: GetCallback): void;
  override get(sid: string, callback?: GetCallback): Promise<SessionData | null> | undefined {
    return this.tracked(callback, (settle) => this.binding.get(sid, settle));
  }

  /**
   * Stores the session. A new, empty session (`saveUninitialized: true`) that cannot be
   * stored (disk full, `maxSessions` reached) is logged and dropped rather than failing a
   * request that never asked for a session.
   */
  override set(sid: string, session: SessionData): Promise<void>;
  override set(sid: string, session: SessionData, callback: StoreCallback): void;
  override set(
    sid: string,
    session: SessionData,
    callback?: StoreCallback,
  ): Promise<void> | undefined {
    return this.tracked(callback, (settle) => this.binding.set(sid, session, settle));
  }

  /** Moves the expiry of a session that did not change; creates nothing. */
  override touch(sid: string, session: SessionData): Promise<void>;
  override touch(sid: string, session: SessionData, callback: StoreCallback): void;
  override touch(
    sid: string,
    session: SessionData,
    callback?: StoreCallback,
  ): Promise<void> | undefined {
    return this.tracked(callback, (settle) => this.binding.touch(sid, session, settle));
  }

  /** Removes the session; an id that no session can have has nothing to remove. */
  override destroy(sid: string): Promise<void>;
  override destroy(sid: string, callback: StoreCallback): void;
  override destroy(sid: string, callback?: StoreCallback): Promise<void> | undefined {
    return this.tracked(callback, (settle) => this.binding.destroy(sid, settle));
  }

  /**
   * Every unexpired session, keyed by id. The engine streams the listing; the answer
   * itself holds every session, as express-session's `all` contract requires: for large
   * stores, iterate `store.engine.entries()` instead.
   */
  override all(): Promise<SessionsById>;
  override all(callback: AllCallback): void;
  override all(callback?: AllCallback): Promise<SessionsById> | undefined {
    return this.tracked(callback, (settle) => this.binding.answer(this.collectAll(), settle));
  }

  /** How many unexpired sessions are stored, counted by streaming the listing. */
  override length(): Promise<number>;
  override length(callback: LengthCallback): void;
  override length(callback?: LengthCallback): Promise<number> | undefined {
    return this.tracked(callback, (settle) => this.binding.answer(this.engine.length(), settle));
  }

  /** Removes every session; resolves (or calls back with) how many were removed. */
  override clear(): Promise<number>;
  override clear(callback: ClearCallback): void;
  override clear(callback?: ClearCallback): Promise<number> | undefined {
    return this.tracked(callback, (settle) => this.binding.answer(this.engine.clear(), settle));
  }

  /**
   * The live sessions of `owner` (as the `owner` option names it: `owner: (s) =>
   * s.user?.id`), with their ids, streamed. Needs the `owner` option.
   */
  sessionsOf(owner: string | number): AsyncIterable<[string, SessionData]> {
    return this.binding.sessionsOf(owner);
  }

  /**
   * Ends every session of `owner` ("log out everywhere"), but `options.except` (the
   * current request's `req.sessionID`, to stay logged in there); resolves (or calls back
   * with) how many it ended. Needs the `owner` option.
   */
  destroyOwner(owner: string | number, options?: DestroyOwnerOptions): Promise<number>;
  destroyOwner(
    owner: string | number,
    options: DestroyOwnerOptions | undefined,
    callback: CountCallback,
  ): void;
  destroyOwner(
    owner: string | number,
    options?: DestroyOwnerOptions,
    callback?: CountCallback,
  ): Promise<number> | undefined {
    return this.tracked(callback, (settle) => this.binding.destroyOwner(owner, options, settle));
  }

  /**
   * The file that holds the session `sid`. Throws `ERR_INVALID_ID` for an id that cannot
   * be stored, and `ERR_INVALID_OPTION` when the adapter does not store in a directory.
   */
  sessionFile(sid: string): string {
    return this.binding.sessionFile(sid);
  }

  /** Stops the reaper and the reconnect probe, and closes the adapter. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.probeTimer);
    return this.binding.close();
  }

  private async collectAll(): Promise<SessionsById> {
    // No prototype: an id such as `__proto__` must stay an ordinary key.
    const sessions: SessionsById = Object.create(null);
    for await (const [sid, stored] of this.engine.entries()) sessions[sid] = stored;
    return sessions;
  }

  /**
   * Runs a binding call, noting its outcome for `connect`/`disconnect` before the caller
   * hears of it. Without a callback, the binding's own promise is returned: it is observed
   * on a side branch, so an ignored rejection stays handled (and logged) as the binding
   * made it.
   */
  private tracked<V, R>(
    callback: ((error: SessionStoreError | null, value?: V) => void) | undefined,
    run: (
      settle: ((error?: SessionStoreError | null, value?: V) => void) | undefined,
    ) => Promise<R> | undefined,
  ): Promise<R> | undefined {
    if (callback === undefined) {
      const pending = run(undefined);
      pending?.then(
        () => this.noteOutcome(null),
        (error: unknown) => this.noteOutcome(error),
      );
      return pending;
    }
    // Passes on exactly the arguments the binding gave: `(null)` alone after a `set`.
    run((error = null, ...value) => {
      this.noteOutcome(error);
      callback(error, ...value);
    });
    return undefined;
  }

  private noteOutcome(error: unknown): void {
    if (error === null) {
      if (!this.disconnected) return;
      this.disconnected = false;
      clearTimeout(this.probeTimer);
      this.announce('connect');
    } else if (hasErrorCode(error, ErrorCodes.UNAVAILABLE) && !this.disconnected) {
      this.disconnected = true;
      this.announce('disconnect');
      this.scheduleProbe();
    }
  }

  /** Asks the backend, once a while, whether it is back, until it is or the store closes. */
  private scheduleProbe(): void {
    if (this.closed) return;
    this.probeTimer = setTimeout(() => {
      this.tracked(undefined, () => this.binding.get(PROBE_ID))?.then(
        () => undefined,
        () => {
          if (this.disconnected) this.scheduleProbe();
        },
      );
    }, RECONNECT_PROBE_MS);
    // The probe alone must not keep the process alive.
    this.probeTimer.unref();
  }

  /** Emits an event; a listener that throws is logged, never thrown into a store call. */
  private announce(event: 'connect' | 'disconnect'): void {
    try {
      this.emit(event);
    } catch (thrown) {
      this.binding.logger.error({ err: thrown }, `${PACKAGE_NAME}: a '${event}' listener threw`);
    }
  }
}
