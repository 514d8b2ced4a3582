import { join } from 'node:path';
import type { SessionStore as FastifySessionStoreContract } from '@fastify/session';
import { createNodeAdapter, type NodeAdapterOptions } from '@sessionfs/adapter-node';
import {
  createSessionStore,
  ErrorCodes,
  type FsAdapter,
  type SessionStore,
  SessionStoreError,
  type SessionStoreOptions,
  type StoreLogger,
  sessionKey,
} from '@sessionfs/core';
import type { Session } from 'fastify';

/** The options of the store engine (`@sessionfs/core`), less the adapter. */
export type EngineOptions = Omit<SessionStoreOptions, 'adapter'>;

/**
 * Sessions as files in a directory, through `@sessionfs/adapter-node`. The directory is
 * created (mode `dirMode`, default `0o700`) on the first write; files are `0o600`.
 */
export interface DirectoryStoreOptions
  extends EngineOptions,
    Pick<NodeAdapterOptions, 'fsync' | 'fileMode' | 'dirMode' | 'access'> {
  /** The session directory, relative to the working directory or absolute. */
  dir: string;
  adapter?: never;
}

/** Sessions through any `FsAdapter`: `@sessionfs/adapter-memory` in tests, your own backend. */
export interface AdapterStoreOptions extends EngineOptions {
  /** The adapter to store through. The store closes it on `close()`. */
  adapter: FsAdapter;
  dir?: never;
  /** Options of the node adapter go to the adapter you create, not here. */
  fsync?: never;
  fileMode?: never;
  dirMode?: never;
  access?: never;
}

/** Options of {@link FileSessionStore}: a directory, or an adapter, plus the engine's options. */
export type FileSessionStoreOptions = DirectoryStoreOptions | AdapterStoreOptions;

/** Callback of `set`, `touch` and `destroy`: called once, with an error on failure. */
export type StoreCallback = (error?: SessionStoreError | null) => void;

/**
 * Callback of `get`: the session, or `null` when there is none (missing, expired or
 * corrupt), or an error when the medium failed or the id cannot be stored.
 */
export type GetCallback = (error: SessionStoreError | null, session?: Session | null) => void;

/** At most one line a minute about empty new sessions that could not be stored. */
const DROPPED_REPORT_MS = 60_000;

/** Without a logger, warnings and errors still reach stderr. */
const stderrLogger: StoreLogger = {
  warn: (fields, message) => console.warn(message, fields),
  error: (fields, message) => console.error(message, fields),
};

/**
 * The `@fastify/session` store of sessionfs: the callback API that `@fastify/session`
 * calls, bound to the promise API of the `@sessionfs/core` engine, which owns every rule
 * (ids, expiry, encoding, caching, reaping).
 *
 * Every method takes its callback last and calls it once, asynchronously; without one, it
 * returns a promise instead. Nothing it does can crash the process: a callback that
 * throws is logged, and a promise nobody awaits that rejects is logged rather than left
 * unhandled.
 *
 * `new FileSessionStore('./sessions')` (also exported as `FileStore`) is a drop-in for
 * `@itrocks/fastify-file-session-store`.
 */
export class FileSessionStore implements FastifySessionStoreContract {
  /**
   * The store engine, for management: `length()`, `ids()`, `entries()`, `clear()`,
   * `reap()`, and `get`/`set`/`destroy` as promises.
   */
  readonly engine: SessionStore<Session>;
  /**
   * The session directory (absolute for the node adapter), or `undefined` for an
   * adapter that does not store in a directory.
   */
  readonly dir: string | undefined;
  private readonly logger: StoreLogger;
  /** Empty new sessions dropped since the last line about them, and when that was. */
  private droppedSinceReport = 0;
  private reportedDroppedAt = Number.NEGATIVE_INFINITY;

  constructor(options: FileSessionStoreOptions | string) {
    const resolved: FileSessionStoreOptions =
      typeof options === 'string' ? { dir: options } : options;
    this.logger = resolved?.logger ?? stderrLogger;
    const { adapter, dir } = openAdapter(resolved, this.logger);
    this.engine = createSessionStore<Session>({ ...engineOptionsOf(resolved), adapter });
    this.dir = dir;
  }

  /**
   * The session `sessionId`, or `null` when there is none: missing, expired, corrupt, or
   * an id that no session can have (too long, ill-formed), so that `@fastify/session`
   * issues a new one rather than fail every request.
   */
  get(sessionId: string): Promise<Session | null>;
  get(sessionId: string, callback: GetCallback): void;
  get(sessionId: string, callback?: GetCallback): Promise<Session | null> | undefined {
    return this.answer(this.engine.get(sessionId), callback, (error) => {
      if (error.code === ErrorCodes.INVALID_ID) return null;
      throw error;
    });
  }

  /**
   * Stores the session. A new session that holds nothing yet (only its cookie, as
   * `@fastify/session` saves one with `saveUninitialized: true`) that cannot be stored
   * (disk full, `maxSessions` reached) is logged and dropped rather than failing a
   * request that never asked for a session: the visitor gets a new one next time.
   */
  set(sessionId: string, session: Session): Promise<void>;
  set(sessionId: string, session: Session, callback: StoreCallback): void;
  set(sessionId: string, session: Session, callback?: StoreCallback): Promise<void> | undefined {
    return this.answer(this.engine.set(sessionId, session), callback, async (error) => {
      if (!holdsNothing(session)) throw error;
      // Dropped only if nothing is stored under the id: an emptied session (a logout that
      // cleared its fields) must not leave the old one behind.
      if ((await this.engine.get(sessionId).catch(() => undefined)) !== null) throw error;
      this.reportDropped(error);
    });
  }

  /** Moves the expiry of a session that did not change (express-session's optional method). */
  touch(sessionId: string, session: Session): Promise<void>;
  touch(sessionId: string, session: Session, callback: StoreCallback): void;
  touch(sessionId: string, session: Session, callback?: StoreCallback): Promise<void> | undefined {
    return this.answer(this.engine.touch(sessionId, session), callback);
  }

  /** Removes the session; an id that no session can have has nothing to remove. */
  destroy(sessionId: string): Promise<void>;
  destroy(sessionId: string, callback: StoreCallback): void;
  destroy(sessionId: string, callback?: StoreCallback): Promise<void> | undefined {
    return this.answer(this.engine.destroy(sessionId), callback, (error) => {
      if (error.code !== ErrorCodes.INVALID_ID) throw error;
    });
  }

  /**
   * The file that holds the session `sessionId`: its id encoded so that no id can name a
   * path outside the directory. Throws `ERR_INVALID_ID` for an id that cannot be stored,
   * and `ERR_INVALID_OPTION` when the adapter does not store in a directory.
   */
  sessionFile(sessionId: string): string {
    if (this.dir === undefined) {
      throw new SessionStoreError(
        ErrorCodes.INVALID_OPTION,
        '@sessionfs/fastify-session-file: sessionFile() needs a store over a directory',
      );
    }
    return join(this.dir, sessionKey(sessionId));
  }

  /** Stops the reaper and closes the adapter. Idempotent. */
  close(): Promise<void> {
    return this.engine.close();
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
      '@sessionfs/fastify-session-file: new, empty sessions could not be stored; their requests went on without them',
    );
    this.reportedDroppedAt = now;
    this.droppedSinceReport = 0;
  }

  /**
   * Hands the outcome of `pending` to `callback`, once, a failure first through `recover`
   * (which answers in its place, or throws); without a callback, returns it as a promise
   * that the caller may ignore: a rejection is then logged, not unhandled. A success costs
   * no promise beyond `pending`'s own: every request goes through here.
   */
  private answer<T>(
    pending: Promise<T>,
    callback: ((error: SessionStoreError | null, value?: T) => void) | undefined,
    recover: (error: SessionStoreError) => T | Promise<T> = (error) => {
      throw error;
    },
  ): Promise<T> | undefined {
    const failed = (error: unknown) => recover(asStoreError(error));
    if (callback === undefined) {
      const settled = pending.catch(failed).catch((error: unknown) => {
        throw asStoreError(error);
      });
      settled.catch((error: unknown) => {
        this.logger.debug?.({ err: error }, '@sessionfs/fastify-session-file: store call failed');
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
          this.call(callback, asStoreError(thrown));
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
      this.logger.error(
        { err: thrown },
        '@sessionfs/fastify-session-file: a session store callback threw',
      );
    }
  }
}

/** `FileSessionStore` under the name `@itrocks/fastify-file-session-store` users know. */
export const FileStore = FileSessionStore;
export type FileStore = FileSessionStore;

/** Whether a session holds nothing but its cookie: `@fastify/session`'s new session. */
function holdsNothing(session: Session): boolean {
  for (const field of Object.keys(session)) if (field !== 'cookie') return false;
  return true;
}

function openAdapter(
  options: FileSessionStoreOptions,
  logger: StoreLogger,
): {
  adapter: FsAdapter;
  dir: string | undefined;
} {
  if ((options?.adapter === undefined) === (options?.dir === undefined)) {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      '@sessionfs/fastify-session-file: pass exactly one of `dir` (a directory) and `adapter`',
    );
  }
  if (options.adapter !== undefined) {
    const { dir } = options.adapter as { dir?: unknown };
    return { adapter: options.adapter, dir: typeof dir === 'string' ? dir : undefined };
  }
  const { dir, fsync, fileMode, dirMode, access } = options as DirectoryStoreOptions;
  const adapter = createNodeAdapter({
    dir,
    warn: (message) => logger.warn({}, message),
    ...(fsync === undefined ? {} : { fsync }),
    ...(fileMode === undefined ? {} : { fileMode }),
    ...(dirMode === undefined ? {} : { dirMode }),
    ...(access === undefined ? {} : { access }),
  });
  return { adapter, dir: adapter.dir };
}

/** The options that belong to the engine, without those that chose the adapter. */
function engineOptionsOf(options: FileSessionStoreOptions): EngineOptions {
  const { adapter, dir, fsync, fileMode, dirMode, access, ...engine } = options as EngineOptions &
    Partial<NodeAdapterOptions> & { adapter?: FsAdapter };
  return engine;
}

/** The engine rejects with `SessionStoreError` only; anything else is a bug worth wrapping. */
function asStoreError(error: unknown): SessionStoreError {
  if (SessionStoreError.isInstance(error)) return error;
  return new SessionStoreError(ErrorCodes.IO, '@sessionfs/fastify-session-file: store failed', {
    cause: error,
  });
}
