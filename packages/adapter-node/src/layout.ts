import * as nodeFs from 'node:fs';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, SessionStoreError } from '@sessionfs/core/adapter';
import { ADAPTER, errnoCode } from './fs-errors.js';
import type { NodeFs } from './node-fs.js';

/**
 * How a directory spreads its session files.
 *
 * - `'sharded'`: over subdirectories `_0` … `_f`, by a hash of the key. Writes to
 *   different sessions then rarely contend for one directory's lock (creating and renaming
 *   a file lock its directory), and listings stay short at a million sessions.
 * - `'flat'`: every file in the directory itself, as every directory written before the
 *   layout file existed.
 */
export type DirectoryLayout = 'flat' | 'sharded';

/**
 * The file that records a directory's layout, written when the adapter creates the
 * directory. A directory without one is flat: directories made before it existed, or by
 * hand.
 */
export const LAYOUT_FILE = '.sessionfs-layout';

/** How many subdirectories a sharded directory spreads its files over. */
export const SHARD_COUNT = 16;

/** A shard's name: not a key (keys start with a letter or digit), never listed as one. */
export const SHARD_NAME = /^_[0-9a-f]{1,2}$/;

/** What the layout file of a directory of each layout holds. */
const CONTENT: Record<DirectoryLayout, string> = {
  flat: 'flat\n',
  sharded: `sharded ${SHARD_COUNT}\n`,
};
/** A layout file is a line; anything longer was not written by an adapter. */
const MAX_LAYOUT_FILE_BYTES = 64;

/** The subdirectory names of a sharded directory, in order. */
export const SHARD_NAMES: readonly string[] = Array.from(
  { length: SHARD_COUNT },
  (_, index) => `_${index.toString(16)}`,
);

/** The shard of `key`: FNV-1a of its characters (keys are ASCII), modulo the count. */
export function shardOf(key: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index += 1) {
    hash = Math.imul(hash ^ key.charCodeAt(index), 0x01000193);
  }
  return SHARD_NAMES[(hash >>> 0) % SHARD_COUNT] as string;
}

/** Where the files of a directory of `layout` go: the directory itself, or its shards. */
export function fileDirectories(dir: string, layout: DirectoryLayout): string[] {
  return layout === 'flat' ? [dir] : SHARD_NAMES.map((name) => join(dir, name));
}

/** What the layout file of a directory laid out as `layout` holds. */
export function layoutFileContent(layout: DirectoryLayout): string {
  return CONTENT[layout];
}

/**
 * The layout of the directory `dir`, from its layout file; `undefined` while the directory
 * does not exist. Throws `ERR_FOREIGN_ENTRY` for a layout file that is not a regular file
 * or that holds anything else than an adapter writes (a newer format, or not ours): the
 * adapter would look for sessions in the wrong places.
 */
export function readLayout(fs: NodeFs, dir: string): DirectoryLayout | undefined {
  const path = join(dir, LAYOUT_FILE);
  let fd: number;
  try {
    // Never through a link, never blocking on a FIFO.
    fd = fs.openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') return directoryExists(fs, dir) ? 'flat' : undefined;
    if (code !== 'ELOOP') throw error;
    throw foreignLayoutFile(path, 'a symbolic link');
  }
  let content: string;
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) throw foreignLayoutFile(path, 'not a regular file');
    if (stats.size > MAX_LAYOUT_FILE_BYTES) throw foreignLayoutFile(path, 'too large');
    const bytes = Buffer.alloc(stats.size);
    const read = fs.readSync(fd, bytes, 0, bytes.byteLength, 0);
    content = bytes.subarray(0, read).toString('latin1');
  } finally {
    fs.closeSync(fd);
  }
  if (content === CONTENT.sharded) return 'sharded';
  if (content === CONTENT.flat) return 'flat';
  throw foreignLayoutFile(path, `it holds ${JSON.stringify(content.slice(0, 32))}`);
}

/**
 * The layout of the session directory `dir` (`'flat'` or `'sharded'`), from its layout
 * file; `undefined` while it does not exist.
 */
export function readLayoutOf(dir: string, fs: NodeFs = nodeFs): DirectoryLayout | undefined {
  return readLayout(fs, dir);
}

function directoryExists(fs: NodeFs, dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

function foreignLayoutFile(path: string, why: string): SessionStoreError {
  return new SessionStoreError(
    ErrorCodes.FOREIGN_ENTRY,
    `${ADAPTER}: ${path} does not say how the directory is laid out (${why}); ` +
      'it was not written by this version of sessionfs: remove it only if the directory is flat',
  );
}
