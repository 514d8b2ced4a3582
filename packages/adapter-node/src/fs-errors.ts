import type { Stats } from 'node:fs';
import {
  adapterError,
  type ErrorCode,
  ErrorCodes,
  redactKey,
  SessionStoreError,
} from '@sessionfs/core/adapter';

/** The package name that starts every message of this adapter. */
export const ADAPTER = '@sessionfs/adapter-node';

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
  const errno = errnoCode(error);
  let code: ErrorCode = ErrorCodes.IO;
  if (errno && NO_SPACE.has(errno)) code = ErrorCodes.NO_SPACE;
  else if (errno && PERMISSION.has(errno)) code = ErrorCodes.PERMISSION;
  return adapterError(error, {
    adapter: ADAPTER,
    action,
    code,
    key,
    subject: path,
    detail: errno ? ` (${errno})` : undefined,
  });
}

/** The error for an entry under a session's name that the adapter did not write. */
export function foreignEntry(path: string, key: string, what: string): SessionStoreError {
  return new SessionStoreError(
    ErrorCodes.FOREIGN_ENTRY,
    `${ADAPTER}: ${path.split(key).join(redactKey(key))} is ${what}, not a session file; it is left alone`,
  );
}

/** An open that failed because of what sits at `path` (a link, a socket) is a foreign entry. */
export function foreignOr(error: unknown, path: string, key: string): unknown {
  const code = errnoCode(error);
  if (code === 'ELOOP') return foreignEntry(path, key, 'a symbolic link');
  if (code === 'ENXIO') return foreignEntry(path, key, 'a socket or device');
  return error;
}

/** What a file type reads as, in messages. */
export function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}
