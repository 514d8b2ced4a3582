import {
  type ErrorCode,
  ErrorCodes,
  redactError,
  redactKey,
  SessionStoreError,
} from '@sessionfs/core/adapter';

/** The node:fs error codes that mean "the disk is full". */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);
/** The node:fs error codes that mean "not allowed". */
const PERMISSION = new Set(['EACCES', 'EPERM', 'EROFS']);

/** The `code` of a node:fs error, if it has one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * Wraps a node:fs error into the store's typed error, keeping it as the cause. With the
 * `key` concerned, the key is shortened in the message and scrubbed from the cause: it
 * encodes a session id, which must not reach logs.
 */
export function toStoreError(
  error: unknown,
  action: string,
  path: string,
  key?: string,
): SessionStoreError {
  if (SessionStoreError.isInstance(error)) return error;
  const errno = errnoCode(error);
  let code: ErrorCode = ErrorCodes.IO;
  if (errno && NO_SPACE.has(errno)) code = ErrorCodes.NO_SPACE;
  else if (errno && PERMISSION.has(errno)) code = ErrorCodes.PERMISSION;
  const shown = key === undefined ? path : path.split(key).join(redactKey(key));
  return new SessionStoreError(
    code,
    `@sessionfs/adapter-node: cannot ${action} ${shown}${errno ? ` (${errno})` : ''}`,
    { cause: key === undefined ? error : redactError(error, key) },
  );
}
