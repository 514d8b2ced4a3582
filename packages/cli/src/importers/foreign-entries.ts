/**
 * What reading another store's session directory yields: the public types of the
 * importers. The import command decides what to do with each entry.
 */

/**
 * The stores whose session directories `sessionfs import --from` reads:
 *
 * - `'session-file-store'`: express-session's `session-file-store` (1.x), one
 *   `<id>.json` file per session.
 * - `'itrocks'`: `@itrocks/fastify-file-session-store` (0.0.x) for `@fastify/session`,
 *   one file per session named the session id.
 */
export type ForeignFormat = 'session-file-store' | 'itrocks';

/** Every {@link ForeignFormat}, in the order the CLI lists them. */
export const FOREIGN_FORMATS: readonly ForeignFormat[] = ['session-file-store', 'itrocks'];

/** A session read from another store's directory. */
export interface ForeignSession {
  readonly kind: 'session';
  /**
   * The session id, as the other store's framework knows it (the id inside the session
   * cookie), taken from the file name. Not validated: an id sessionfs refuses is still
   * yielded, for the caller to report.
   */
  readonly id: string;
  /**
   * The session as the framework handed it to the other store (with its `cookie`),
   * without that store's own bookkeeping (session-file-store's `__lastAccess`).
   */
  readonly session: Record<string, unknown>;
  /**
   * When the other store would have stopped serving the session, in epoch milliseconds.
   * It may be in the past: expired sessions are yielded too, so that the caller can count
   * them.
   */
  readonly expiresAt: number;
}

/**
 * A file named like a session of that store that cannot be imported: not a regular file,
 * too large, not JSON, no usable expiry, encrypted, or failing to open.
 */
export interface UnreadableFile {
  readonly kind: 'unreadable';
  /** The file's name within the directory (a name, never a path). */
  readonly file: string;
  /**
   * Why, in one short line fit for a report. It never quotes the file's content, which
   * may hold session data (a parser's message would).
   */
  readonly reason: string;
}

/** One entry of a foreign session directory that looks like a session of that store. */
export type ForeignEntry = ForeignSession | UnreadableFile;

/**
 * How the other store was configured, where it changes file names or expiry. Each option
 * applies to one format; giving it for the other format is an `ERR_INVALID_OPTION` error
 * (it would be silently meaningless). `undefined` means the default, so that a CLI flag
 * can be passed through as it is.
 */
export interface ForeignReadOptions {
  /**
   * session-file-store only: its `ttl` option, in seconds. It is the lifetime of a session
   * whose cookie has no `originalMaxAge` (no `maxAge` was set), counted from its last
   * access. Default 3600, as the package's.
   */
  readonly ttlSeconds?: number | undefined;
  /**
   * session-file-store only: its `fileExtension` option, the suffix after the session id
   * in a file name. Default `'.json'`, as the package's; `''` makes every name a session id.
   */
  readonly fileExtension?: string | undefined;
  /**
   * itrocks only: lifetime in ms of a session whose cookie has no `expires` (no `maxAge`
   * nor `expires` was set), counted from the file's last modification. Neither that store
   * nor `@fastify/session` ever expires such a session; sessionfs gives a session without
   * cookie expiry its `ttl`, whose default this one matches: one day.
   */
  readonly lifetimeWithoutExpiryMs?: number | undefined;
  /**
   * Largest file read, in bytes; a larger one is reported unreadable without reading it,
   * so that a stray huge file cannot exhaust memory. Default 4 MiB.
   */
  readonly maxFileBytes?: number | undefined;
}
