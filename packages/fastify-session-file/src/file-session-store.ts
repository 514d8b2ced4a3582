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
    Pick<NodeAdapterOptions, 'fsync' | 'fileMode' | 'dirMode'> {
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

/**
 * The `@fastify/session` store of sessionfs: the callback API that `@fastify/session`
 * calls, bound to the promise API of the `@sessionfs/core` engine, which owns every rule
 * (ids, expiry, encoding, caching, reaping).
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

  constructor(options: FileSessionStoreOptions | string) {
    const { adapter, dir } = openAdapter(typeof options === 'string' ? { dir: options } : options);
    const engineOptions = typeof options === 'string' ? {} : engineOptionsOf(options);
    this.engine = createSessionStore<Session>({ ...engineOptions, adapter });
    this.dir = dir;
  }

  get(sessionId: string, callback: GetCallback): void {
    settle(this.engine.get(sessionId), callback);
  }

  set(sessionId: string, session: Session, callback: StoreCallback): void {
    settle(this.engine.set(sessionId, session), callback);
  }

  /** Moves the expiry of a session that did not change (express-session's optional method). */
  touch(sessionId: string, session: Session, callback: StoreCallback): void {
    settle(this.engine.touch(sessionId, session), callback);
  }

  destroy(sessionId: string, callback: StoreCallback): void {
    settle(this.engine.destroy(sessionId), callback);
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
}

/** `FileSessionStore` under the name `@itrocks/fastify-file-session-store` users know. */
export const FileStore = FileSessionStore;
export type FileStore = FileSessionStore;

function openAdapter(options: FileSessionStoreOptions): {
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
  const { dir, fsync, fileMode, dirMode } = options as DirectoryStoreOptions;
  const adapter = createNodeAdapter({
    dir,
    ...(fsync === undefined ? {} : { fsync }),
    ...(fileMode === undefined ? {} : { fileMode }),
    ...(dirMode === undefined ? {} : { dirMode }),
  });
  return { adapter, dir: adapter.dir };
}

/** The options that belong to the engine, without those that chose the adapter. */
function engineOptionsOf(options: FileSessionStoreOptions): EngineOptions {
  const { adapter, dir, fsync, fileMode, dirMode, ...engine } = options as EngineOptions &
    Partial<NodeAdapterOptions> & { adapter?: FsAdapter };
  return engine;
}

/**
 * Hands the outcome of `pending` to a Node-style callback, once. The engine's methods
 * reject rather than throw, so no error reaches the caller as a synchronous throw; a
 * callback that throws is not called a second time with its own exception.
 */
function settle<T>(
  pending: Promise<T>,
  callback: (error: SessionStoreError | null, value?: T) => void,
): void {
  pending.then(
    (value) => callback(null, value),
    (error: unknown) => callback(asStoreError(error)),
  );
}

/** The engine rejects with `SessionStoreError` only; anything else is a bug worth wrapping. */
function asStoreError(error: unknown): SessionStoreError {
  if (SessionStoreError.isInstance(error)) return error;
  return new SessionStoreError(ErrorCodes.IO, '@sessionfs/fastify-session-file: store failed', {
    cause: error,
  });
}
