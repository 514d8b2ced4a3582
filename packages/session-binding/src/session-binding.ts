import {
  type DestroyOwnerOptions,
  ErrorCodes,
  type SessionStore,
  SessionStoreError,
  type StoreLogger,
  sessionKey,
} from '@sessionfs/core';
import { type FileSessionStoreOptions, openEngine } from './store-options.js';

/** Callback of `set`, `touch` and `destroy`: called once, with an error on failure. */
export type StoreCallback = (error?: SessionStoreError | null) => void;

/**
 * Callback of `get`: the session, or `null` when there is none (missing, expired or
 * corrupt), or an error when the medium failed or the id cannot be stored.
 */
export type GetCallback<S> = (error: SessionStoreError | null, session?: S | null) => void;

/** Callback of `destroyOwner`: with how many sessions were ended. */
export type CountCallback = (error: SessionStoreError | null, count?: number) => void;

/** At most one line a minute about empty new sessions that could not be stored. */
const DROPPED_REPORT_MS = 60_000;

/**
 * A framework's session store calls, bound to the promise API of the `@sessionfs/core`
 * engine, which owns every rule (ids, expiry, encoding, caching, reaping). A framework
 * binding maps its own interface onto these methods and nothing more.
 *
 * Every method takes its callback last and calls it once, asynchronously; without one, it
 * returns a promise instead. Nothing it does can crash the process: a callback that
 * throws is logged, and a promise nobody awaits that rejects is logged rather than left
 * unhandled.
 */
export class SessionBinding<S extends object> {
  /** The store engine, for management: `length()`, `ids()`, `entries()`, `clear()`, `reap()`. */
  readonly engine: SessionStore<S>;
  /** The session directory (absolute), or `undefined` for an adapter with none. */
  readonly dir: string | undefined;
  private readonly fileOf: ((key: string) => string) | undefined;
  readonly logger: StoreLogger;
  /** Empty new sessions dropped since the last line about them, and when that was. */
  private droppedSinceReport = 0;
  private reportedDroppedAt = Number.NEGATIVE_INFINITY;

  /** `name` (the binding's package) starts every message the binding logs or throws. */
  constructor(
    private readonly name: string,
    options: FileSessionStoreOptions | string,
  ) {
    ({
      engine: this.engine,
      dir: this.dir,
      fileOf: this.fileOf,
      logger: this.logger,
    } = openEngine<S>(name, options));
  }

  /**
   * The session `id`, or `null` when there is none: missing, expired, corrupt, or an id
   * that no session can have (too long, ill-formed), so that the framework issues a new
   * one rather than fail every request.
   */
  get(id: string): Promise<S | null>;
  get(id: string, callback: GetCallback<S> | undefined): Promise<S | null> | undefined;
  get(id: string, callback?: GetCallback<S>): Promise<S | null> | undefined {
    return this.answer(this.engine.get(id), callback, (error) => {
      if (error.code === ErrorCodes.INVALID_ID) return null;
      throw error;
    });
  }

  /**
   * Stores the session. A new session that holds nothing yet (only its cookie, as the
   * frameworks save one with `saveUninitialized: true`) that cannot be stored (disk
   * full, `maxSessions` reached) is logged and dropped rather than failing a request that
   * never asked for a session: the visitor gets a new one next time.
   */
  set(id: string, session: S): Promise<void>;
  set(id: string, session: S, callback: StoreCallback | undefined): Promise<void> | undefined;
  set(id: string, session: S, callback?: StoreCallback): Promise<void> | undefined {
    return this.answer(this.engine.set(id, session), callback, async (error) => {
      if (!holdsNothing(session)) throw error;
      // Dropped only if nothing is stored under the id: an emptied session (a logout that
      // cleared its fields) must not leave the old one behind.
      if ((await this.engine.get(id).catch(() => undefined)) !== null) throw error;
      this.reportDropped(error);
    });
  }

  /** Moves the expiry of a session that did not change; creates nothing. */
  touch(id: string, session: S): Promise<void>;
  touch(id: string, session: S, callback: StoreCallback | undefined): Promise<void> | undefined;
  touch(id: string, session: S, callback?: StoreCallback): Promise<void> | undefined {
    return this.answer(this.engine.touch(id, session), callback);
  }

  /** Removes the session; an id that no session can have has nothing to remove. */
  destroy(id: string): Promise<void>;
  destroy(id: string, callback: StoreCallback | undefined): Promise<void> | undefined;
  destroy(id: string, callback?: StoreCallback): Promise<void> | undefined {
    return this.answer(this.engine.destroy(id), callback, (error) => {
      if (error.code !== ErrorCodes.INVALID_ID) throw error;
    });
  }

  /**
   * The live sessions of `owner` (as the store's `owner` option names it), with their ids,
   * streamed. Needs the `owner` option (`ERR_INVALID_OPTION` otherwise).
   */
  sessionsOf(owner: string | number): AsyncIterable<[string, S]> {
    return this.engine.sessionsOf(owner);
  }

  /**
   * Ends every session of `owner` but `options.except` ("log out everywhere"), and gives
   * how many it ended. Needs the `owner` option.
   */
  destroyOwner(owner: string | number, options?: DestroyOwnerOptions): Promise<number>;
  destroyOwner(
    owner: string | number,
    options: DestroyOwnerOptions | undefined,
    callback: CountCallback | undefined,
  ): Promise<number> | undefined;
  destroyOwner(
    owner: string | number,
    options?: DestroyOwnerOptions,
    callback?: CountCallback,
  ): Promise<number> | undefined {
    return this.answer(this.engine.destroyOwner(owner, options), callback);
  }

  /**
   * The file that holds the session `id`: its id encoded so that no id can name a path
   * outside the directory. Throws `ERR_INVALID_ID` for an id that cannot be stored, and
   * `ERR_INVALID_OPTION` when the adapter does not store in a directory.
   */
  sessionFile(id: string): string {
    if (this.fileOf === undefined) {
      throw new SessionStoreError(
        ErrorCodes.INVALID_OPTION,
        `${this.name}: sessionFile() needs a store over a directory`,
      );
    }
    return this.fileOf(sessionKey(id));
  }

  /** Stops the reaper and closes the adapter. Idempotent. */
  close(): Promise<void> {
    return this.engine.close();
  }

  /**
   * Hands the outcome of `pending` to `callback`, once, a failure first through `recover`
   * (which answers in its place, or throws); without a callback, returns it as a promise
   * that the caller may ignore: a rejection is then logged, not unhandled. A success costs
   * no promise beyond `pending`'s own: every request goes through here.
   */
  answer<T>(
    pending: Promise<T>,
    callback: ((error: SessionStoreError | null, value?: T) => void) | undefined,
    recover: (error: SessionStoreError) => T | Promise<T> = (error) => {
      throw error;
    },
  ): Promise<T> | undefined {
    const failed = (error: unknown) => recover(this.asStoreError(error));
    if (callback === undefined) {
      const settled = pending.catch(failed).catch((error: unknown) => {
        throw this.asStoreError(error);
      });
      settled.catch((error: unknown) => {
        this.logger.debug?.({ err: error }, `${this.name}: store call failed`);
      });
      return settled;
    }
    pending.then(
      (value) => this.call(callback, null, value),
      async (error: unknown) => {
        let value: T;
        try {
          value = await failed(error);
        } catch (thrown) {
          this.call(callback, this.asStoreError(thrown));
          return;
        }
        this.call(callback, null, value);
      },
    );
    return undefined;
  }

  /** Calls a caller's callback; if it throws, the exception is logged, never unhandled. */
  private call<T>(
    callback: (error: SessionStoreError | null, value?: T) => void,
    error: SessionStoreError | null,
    value?: T,
  ): void {
    try {
      if (error !== null) callback(error);
      else if (value === undefined) callback(null);
      else callback(null, value);
    } catch (thrown) {
      this.logger.error({ err: thrown }, `${this.name}: a session store callback threw`);
    }
  }

  /**
   * Logs an empty new session that could not be stored: the first, then at most one line
   * a minute with how many went since, so that a flood does not become a flood of logs.
   */
  private reportDropped(error: SessionStoreError): void {
    this.droppedSinceReport += 1;
    const now = Date.now();
    if (now - this.reportedDroppedAt < DROPPED_REPORT_MS) return;
    this.logger.warn(
      { err: error, code: error.code, dropped: this.droppedSinceReport },
      `${this.name}: new, empty sessions could not be stored; their requests went on without them`,
    );
    this.reportedDroppedAt = now;
    this.droppedSinceReport = 0;
  }

  /** The engine rejects with `SessionStoreError` only; anything else is a bug worth wrapping. */
  private asStoreError(error: unknown): SessionStoreError {
    if (SessionStoreError.isInstance(error)) return error;
    return new SessionStoreError(ErrorCodes.IO, `${this.name}: store failed`, { cause: error });
  }
}

/** Whether a session holds nothing but its cookie: a framework's new session. */
function holdsNothing(session: object): boolean {
  for (const field of Object.keys(session)) if (field !== 'cookie') return false;
  return true;
}
