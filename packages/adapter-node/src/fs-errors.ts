import { type ErrorCode, ErrorCodes, SessionStoreError } from '@sessionfs/core';

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

/** Wraps a node:fs error into the store's typed error, keeping it as the cause. */
export function toStoreError(error: unknown, action: string, path: string): SessionStoreError {
  if (SessionStoreError.isInstance(error)) return error;
  const errno = errnoCode(error);
  let code: ErrorCode = ErrorCodes.IO;
  if (errno && NO_SPACE.has(errno)) code = ErrorCodes.NO_SPACE;
  else if (errno && PERMISSION.has(errno)) code = ErrorCodes.PERMISSION;
  return new SessionStoreError(
    code,
    `@sessionfs/adapter-node: cannot ${action} ${path}${errno ? ` (${errno})` : ''}`,
    { cause: error },
  );
}
