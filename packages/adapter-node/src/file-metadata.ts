import type { Stats } from 'node:fs';
import {
  type AdapterStat,
  ErrorCodes,
  SessionStoreError,
  type StoredValue,
} from '@sessionfs/core/adapter';
import { ADAPTER } from './fs-errors.js';

/**
 * File times cannot hold "never" and many filesystems stop at 2038-01-19 (signed 32-bit
 * seconds), so a value that never expires gets that last representable time. Expiries
 * at or after it read back as "never"; the store keeps the exact expiry inside the record.
 */
export const NEVER_EXPIRES_MTIME_MS = 2 ** 31 * 1000 - 1000;

/** The bytes read from a file, with what its metadata says of them. */
export function storedValue(data: Uint8Array, stats: Stats): StoredValue {
  return { data, ...describe(stats), size: data.byteLength };
}

/** What a file's metadata says of the value it holds. */
export function describe(stats: Stats): AdapterStat {
  const mtimeMs = Math.round(stats.mtimeMs);
  return {
    size: stats.size,
    ...(mtimeMs < NEVER_EXPIRES_MTIME_MS ? { expiresAt: mtimeMs } : {}),
    version: versionOf(stats),
  };
}

/** The expiry a file's mtime holds; "never" past the 2038 sentinel. */
export function expiryOf(stats: Stats): number {
  const mtimeMs = Math.round(stats.mtimeMs);
  return mtimeMs < NEVER_EXPIRES_MTIME_MS ? mtimeMs : Number.POSITIVE_INFINITY;
}

/**
 * Every write renames a new file into place: a new inode with its own birth time (inode
 * numbers are reused, birth times are not). A touch changes neither, so moving the expiry
 * leaves the version, and any cached copy, valid; a rename keeps both, so the temp file's
 * version is the key's once renamed.
 */
export function versionOf(stats: Stats): string {
  return `${stats.ino}:${stats.birthtimeMs}:${stats.size}`;
}

/** The mtime, in seconds, that holds `expiresAt`: clamped to the range file times keep. */
export function mtimeSecondsFor(expiresAt: number | undefined): number {
  if (expiresAt === undefined) return NEVER_EXPIRES_MTIME_MS / 1000;
  if (typeof expiresAt !== 'number' || Number.isNaN(expiresAt)) {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      `${ADAPTER}: expiresAt must be epoch milliseconds, got ${String(expiresAt)}`,
    );
  }
  return Math.min(Math.max(expiresAt, 0), NEVER_EXPIRES_MTIME_MS) / 1000;
}
