import { constants, type Dirent, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, opendir } from 'node:fs/promises';
import { join } from 'node:path';
import type { UnreadableFile } from './foreign-entries.js';
import { type SessionFileText, unreadable } from './format-reader.js';

/**
 * Read-only, and safe against whatever sits under a session's name by the time it is
 * opened: a symbolic link fails to open instead of being followed (`O_NOFOLLOW`) and a
 * FIFO opens without waiting for a writer (`O_NONBLOCK`); `fstat` then refuses both.
 */
const READ_ONLY_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Entries fetched per `readdir` call: the listing stays a small window of the directory. */
const LISTING_BATCH = 256;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The regular files of `dir` whose names `isSessionName` accepts, one at a time and in
 * directory order, each read whole (at most `maxBytes`); or why one cannot be read.
 * Other names are skipped without a system call. Nothing is ever written, renamed or
 * removed. A file that disappears between the listing and its opening (the other store's
 * reaper at work) is skipped: it is no longer a session. Rejects with the `fs` error when
 * `dir` itself cannot be listed.
 */
export async function* readSessionFiles(
  dir: string,
  isSessionName: (name: string) => boolean,
  maxBytes: number,
): AsyncGenerator<SessionFileText | UnreadableFile> {
  // `opendir` streams the listing: a directory of millions of files is never held at once.
  // Leaving the loop (the caller stopping early included) closes the directory.
  for await (const entry of await opendir(dir, { bufferSize: LISTING_BATCH })) {
    if (!isSessionName(entry.name)) continue;
    const read = await readEntry(join(dir, entry.name), entry, maxBytes);
    if (read !== undefined) yield read;
  }
}

async function readEntry(
  path: string,
  entry: Dirent,
  maxBytes: number,
): Promise<SessionFileText | UnreadableFile | undefined> {
  let handle: FileHandle;
  try {
    const type = await entryType(path, entry);
    if (type === undefined) return undefined;
    if (type !== 'regular file') return unreadable(entry.name, notRegular(type));
    handle = await open(path, READ_ONLY_FLAGS);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') return undefined;
    // Replaced by a link since the listing: Linux and macOS say ELOOP, FreeBSD EMLINK.
    if (code === 'ELOOP' || code === 'EMLINK') {
      return unreadable(entry.name, notRegular('symbolic link'));
    }
    return unreadable(entry.name, `cannot be opened (${code ?? 'unknown error'})`);
  }
  try {
    return await readOpened(handle, entry.name, maxBytes);
  } catch (error) {
    return unreadable(entry.name, `cannot be read (${errnoCode(error) ?? 'unknown error'})`);
  } finally {
    await handle.close();
  }
}

async function readOpened(
  handle: FileHandle,
  name: string,
  maxBytes: number,
): Promise<SessionFileText | UnreadableFile> {
  const stats = await handle.stat();
  if (!stats.isFile()) return unreadable(name, notRegular(typeOf(stats) ?? 'unknown'));
  if (stats.size > maxBytes) return unreadable(name, `larger than ${describeBytes(maxBytes)}`);
  const bytes = new Uint8Array(stats.size);
  let filled = 0;
  while (filled < bytes.byteLength) {
    const { bytesRead } = await handle.read(bytes, filled, bytes.byteLength - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  let text: string;
  try {
    text = strictUtf8.decode(bytes.subarray(0, filled));
  } catch {
    return unreadable(name, 'not UTF-8 text');
  }
  return { kind: 'file', name, text, modifiedAt: Math.trunc(stats.mtimeMs) };
}

type EntryType =
  | 'regular file'
  | 'symbolic link'
  | 'directory'
  | 'FIFO'
  | 'socket'
  | 'device'
  | 'unknown';

/**
 * The entry's type as `lstat` sees it, from the listing when the filesystem reports it
 * there; `undefined` once the entry is gone.
 */
async function entryType(path: string, entry: Dirent): Promise<EntryType | undefined> {
  const listed = typeOf(entry);
  if (listed !== undefined) return listed;
  try {
    return typeOf(await lstat(path)) ?? 'unknown';
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function typeOf(entry: Dirent | Stats): EntryType | undefined {
  if (entry.isFile()) return 'regular file';
  if (entry.isSymbolicLink()) return 'symbolic link';
  if (entry.isDirectory()) return 'directory';
  if (entry.isFIFO()) return 'FIFO';
  if (entry.isSocket()) return 'socket';
  if (entry.isBlockDevice() || entry.isCharacterDevice()) return 'device';
  return undefined;
}

function notRegular(type: EntryType): string {
  if (type === 'symbolic link') return 'a symbolic link, not followed';
  if (type === 'unknown') return 'not a regular file: not opened';
  return `a ${type}, not a regular file: not opened`;
}

function describeBytes(bytes: number): string {
  const mebibyte = 1024 * 1024;
  return bytes % mebibyte === 0 ? `${bytes / mebibyte} MiB` : `${bytes} bytes`;
}

function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
