import type { SessionStore as FastifySessionStoreContract } from '@fastify/session';
import type { SessionStore } from '@sessionfs/core';
import {
  type FileSessionStoreOptions,
  type GetCallback as GenericGetCallback,
  SessionBinding,
  type StoreCallback,
} from '@sessionfs/session-binding';
import type { Session } from 'fastify';

/**
 * Callback of `get`: the session, or `null` when there is none (missing, expired or
 * corrupt), or an error when the medium failed or the id cannot be stored.
 */
export type GetCallback = GenericGetCallback<Session>;

/**
 * The `@fastify/session` store of sessionfs: the callback API that `@fastify/session`
 * calls, bound to the promise API of the `@sessionfs/core` engine, which owns every rule
 * (ids, expiry, encoding, caching, reaping), through `@sessionfs/session-binding`.
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
   * `reap()`, `sessionsOf()` and `destroyOwner()` (with the `owner` option), and
   * `get`/`set`/`destroy` as promises.
   */
  readonly engine: SessionStore<Session>;
  /**
   * The session directory (absolute for the node adapter), or `undefined` for an
   * adapter that does not store in a directory.
   */
  readonly dir: string | undefined;
  private readonly binding: SessionBinding<Session>;

  constructor(options: FileSessionStoreOptions | string) {
    this.binding = new SessionBinding<Session>('@sessionfs/fastify-session-file', options);
    this.engine = this.binding.engine;
    this.dir = this.binding.dir;
  }

  /**
   * The session `sessionId`, or `null` when there is none: missing, expired, corrupt, or
   * an id that no session can have (too long, ill-formed), so that `@fastify/session`
   * issues a new one rather than fail every request.
   */
  get(sessionId: string): Promise<Session | null>;
  get(sessionId: string, callback: GetCallback): void;
  get(sessionId: string, callback?: GetCallback): Promise<Session | null> | undefined {
    return this.binding.get(sessionId, callback);
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
    return this.binding.set(sessionId, session, callback);
  }

  /** Moves the expiry of a session that did not change; creates nothing. */
  touch(sessionId: string, session: Session): Promise<void>;
  touch(sessionId: string, session: Session, callback: StoreCallback): void;
  touch(sessionId: string, session: Session, callback?: StoreCallback): Promise<void> | undefined {
    return this.binding.touch(sessionId, session, callback);
  }

  /** Removes the session; an id that no session can have has nothing to remove. */
  destroy(sessionId: string): Promise<void>;
  destroy(sessionId: string, callback: StoreCallback): void;
  destroy(sessionId: string, callback?: StoreCallback): Promise<void> | undefined {
    return this.binding.destroy(sessionId, callback);
  }

  /**
   * The file that holds the session `sessionId`: its id encoded so that no id can name a
   * path outside the directory. Throws `ERR_INVALID_ID` for an id that cannot be stored,
   * and `ERR_INVALID_OPTION` when the adapter does not store in a directory.
   */
  sessionFile(sessionId: string): string {
    return this.binding.sessionFile(sessionId);
  }

  /** Stops the reaper and closes the adapter. Idempotent. */
  close(): Promise<void> {
    return this.binding.close();
  }
}

/** `FileSessionStore` under the name `@itrocks/fastify-file-session-store` users know. */
export const FileStore = FileSessionStore;
export type FileStore = FileSessionStore;
