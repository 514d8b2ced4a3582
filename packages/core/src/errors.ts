const MARKER = Symbol.for('@sessionfs/core/SessionStoreError');

/**
 * Stable error codes. Codes are API and never change meaning; messages are for people
 * and may be reworded.
 */
export const ErrorCodes = {
  /** A session id cannot be stored safely (wrong type, empty, too long, control characters). */
  INVALID_ID: 'ERR_INVALID_ID',
  /** An adapter was handed a key outside the key alphabet (a bug in the caller, never user input). */
  INVALID_KEY: 'ERR_INVALID_KEY',
  /** An option passed to a factory is missing or out of range. */
  INVALID_OPTION: 'ERR_INVALID_OPTION',
  /** The store or adapter was used after `close()`. */
  CLOSED: 'ERR_CLOSED',
  /** A session could not be encoded (a BigInt, a cycle, a value the codec rejects). */
  ENCODE_FAILED: 'ERR_ENCODE_FAILED',
  /** A stored record could not be decoded (empty, truncated, garbage). */
  DECODE_FAILED: 'ERR_DECODE_FAILED',
  /** A record is larger than the configured read bound. */
  TOO_LARGE: 'ERR_TOO_LARGE',
  /** The medium is full (ENOSPC, EDQUOT). */
  NO_SPACE: 'ERR_NO_SPACE',
  /** The medium refused access (EACCES, EPERM, EROFS). */
  PERMISSION: 'ERR_PERMISSION',
  /** The backend is unreachable or did not answer in time. */
  UNAVAILABLE: 'ERR_UNAVAILABLE',
  /**
   * Something the store did not write sits under a session's key (a symbolic link, a
   * FIFO, a device, a directory). It is never followed or opened in a blocking way; the
   * session reads as missing.
   */
  FOREIGN_ENTRY: 'ERR_FOREIGN_ENTRY',
  /**
   * The session directory is not safe to use: other users can write it, or another user
   * owns it. The message names the directory, its mode and owner, and the command to run.
   */
  UNSAFE_DIRECTORY: 'ERR_UNSAFE_DIRECTORY',
  /** A new session was refused: the store holds `maxSessions` sessions already. */
  QUOTA_EXCEEDED: 'ERR_QUOTA_EXCEEDED',
  /**
   * Another process is doing the same kind of work on the storage (reaping, setting a
   * record aside); the store tries again later.
   */
  BUSY: 'ERR_BUSY',
  /** Any other failure of the underlying medium; the original error is the `cause`. */
  IO: 'ERR_IO',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Options of {@link SessionStoreError}. */
export interface SessionStoreErrorOptions {
  /** The error that caused this one, typically the adapter's or the codec's. */
  cause?: unknown;
}

/**
 * The one error class of sessionfs: every failure of the store and of its adapters
 * surfaces as a `SessionStoreError` with a stable `code`.
 *
 * Use {@link SessionStoreError.isInstance} rather than `instanceof`: it also recognises
 * errors from another copy of this package (duplicate installs, CommonJS next to ESM).
 */
export class SessionStoreError extends Error {
  readonly code: ErrorCode;
  /** Marks instances for {@link SessionStoreError.isInstance}, across package copies. */
  readonly [MARKER] = true;

  constructor(code: ErrorCode, message: string, options: SessionStoreErrorOptions = {}) {
    super(
      message.startsWith('@sessionfs') ? message : `@sessionfs: ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'SessionStoreError';
    this.code = code;
  }

  /** True for any `SessionStoreError`, whichever copy of the package created it. */
  static isInstance(value: unknown): value is SessionStoreError {
    return typeof value === 'object' && value !== null && MARKER in value;
  }
}

/** True when `error` is a `SessionStoreError` with the given code. */
export function hasErrorCode(error: unknown, code: ErrorCode): error is SessionStoreError {
  return SessionStoreError.isInstance(error) && error.code === code;
}

/** The store's error for a failure of its adapter, keeping the adapter's code and error. */
export function storeFailure(error: unknown, action: string): SessionStoreError {
  const code: ErrorCode = SessionStoreError.isInstance(error) ? error.code : ErrorCodes.IO;
  return new SessionStoreError(code, `@sessionfs/core: cannot ${action} the session`, {
    cause: error,
  });
}

/** The name of a thrown value, for logs that must not quote its message (it may quote data). */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
