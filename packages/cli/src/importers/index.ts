import { ErrorCodes, SessionStoreError } from '@sessionfs/core';
import {
  FOREIGN_FORMATS,
  type ForeignEntry,
  type ForeignFormat,
  type ForeignReadOptions,
} from './foreign-entries.js';
import type { FormatReader } from './format-reader.js';
import { ITROCKS_LIFETIME_WITHOUT_EXPIRY_MS, itrocksReader } from './itrocks.js';
import { readSessionFiles } from './read-session-files.js';
import {
  SESSION_FILE_STORE_EXTENSION,
  SESSION_FILE_STORE_TTL_SECONDS,
  sessionFileStoreReader,
} from './session-file-store.js';

export {
  FOREIGN_FORMATS,
  type ForeignEntry,
  type ForeignFormat,
  type ForeignReadOptions,
  type ForeignSession,
  type UnreadableFile,
} from './foreign-entries.js';

/** Default {@link ForeignReadOptions.maxFileBytes}: far above any real session. */
export const DEFAULT_MAX_FOREIGN_FILE_BYTES = 4 * 1024 * 1024;

/** The options that only one format understands. */
const OPTIONS_OF_FORMAT = {
  'session-file-store': ['ttlSeconds', 'fileExtension'],
  itrocks: ['lifetimeWithoutExpiryMs'],
} as const satisfies Record<ForeignFormat, readonly (keyof ForeignReadOptions)[]>;

/**
 * Streams the sessions of another store's directory, read-only and one file at a time: the
 * listing itself is streamed, so memory stays bounded whatever the number of files.
 *
 * - Yields a {@link ForeignSession} for each file of the store's naming that holds a
 *   session with a usable expiry, expired ones included (`expiresAt` in the past).
 * - Yields an {@link UnreadableFile} for a name of the store's naming that is not a
 *   regular file (never followed nor opened), is larger than `maxFileBytes`, is not UTF-8
 *   JSON, has no usable expiry, is encrypted (session-file-store's `secret`), or fails to
 *   open or read.
 * - Skips, without opening them, names that are not the store's: other extensions, temp
 *   files, dot files.
 *
 * Files are opened read-only, never written, renamed or removed; their content and mtime
 * stay as they were. Throws `SessionStoreError` `ERR_INVALID_OPTION` at once for an
 * unknown format or a bad option; the iteration rejects with the `fs` error when `dir`
 * cannot be listed.
 */
export function readForeignSessions(
  format: ForeignFormat,
  dir: string,
  options: ForeignReadOptions = {},
): AsyncIterable<ForeignEntry> {
  const reader = formatReader(format, options);
  const maxFileBytes = positive(
    'maxFileBytes',
    options.maxFileBytes,
    DEFAULT_MAX_FOREIGN_FILE_BYTES,
  );
  return decodeSessionFiles(dir, reader, maxFileBytes);
}

async function* decodeSessionFiles(
  dir: string,
  reader: FormatReader,
  maxFileBytes: number,
): AsyncGenerator<ForeignEntry> {
  const isSessionName = (name: string) => reader.sessionIdOf(name) !== undefined;
  for await (const read of readSessionFiles(dir, isSessionName, maxFileBytes)) {
    if (read.kind === 'unreadable') {
      yield read;
      continue;
    }
    // The name passed `isSessionName`, so it has an id.
    yield reader.decode(read, reader.sessionIdOf(read.name) ?? read.name);
  }
}

function formatReader(format: ForeignFormat, options: ForeignReadOptions): FormatReader {
  if (!FOREIGN_FORMATS.includes(format)) {
    throw invalidOption(
      `unknown format ${JSON.stringify(format)}: expected one of ${FOREIGN_FORMATS.join(', ')}`,
    );
  }
  for (const other of FOREIGN_FORMATS) {
    if (other === format) continue;
    for (const name of OPTIONS_OF_FORMAT[other]) {
      if (options[name] !== undefined) {
        throw invalidOption(`${name} applies to ${other} only, not to ${format}`);
      }
    }
  }
  if (format === 'itrocks') {
    return itrocksReader({
      lifetimeWithoutExpiryMs: positive(
        'lifetimeWithoutExpiryMs',
        options.lifetimeWithoutExpiryMs,
        ITROCKS_LIFETIME_WITHOUT_EXPIRY_MS,
      ),
    });
  }
  const fileExtension = options.fileExtension ?? SESSION_FILE_STORE_EXTENSION;
  // The store joins id and extension into a path: a separator would name another directory.
  if (typeof fileExtension !== 'string' || /[/\\\0]/.test(fileExtension)) {
    throw invalidOption('fileExtension must be a string without path separators');
  }
  return sessionFileStoreReader({
    ttlSeconds: positive('ttlSeconds', options.ttlSeconds, SESSION_FILE_STORE_TTL_SECONDS),
    fileExtension,
  });
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidOption(`${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

function invalidOption(message: string): SessionStoreError {
  return new SessionStoreError(ErrorCodes.INVALID_OPTION, `@sessionfs/cli: ${message}`);
}
