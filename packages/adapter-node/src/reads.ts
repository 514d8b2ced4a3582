import type { Stats } from 'node:fs';
import * as nodeFs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { type StoredValue, tooLargeError } from '@sessionfs/core/adapter';
import { retryOnFdPressure } from './fd-pressure.js';
import { storedValue } from './file-metadata.js';
import { ADAPTER, errnoCode, foreignEntry, foreignOr, kindOf } from './fs-errors.js';
import type { NodeFs } from './node-fs.js';

/** Opens a session file without following a link and without blocking on a FIFO. */
const READ_FLAGS =
  nodeFs.constants.O_RDONLY | nodeFs.constants.O_NOFOLLOW | nodeFs.constants.O_NONBLOCK;

/**
 * The synchronous read: open (never following a link, never blocking), fstat, read what
 * the file holds and no more, close, with no thread-pool round trip. `undefined` when
 * there is no such file.
 */
export function readNow(
  fs: NodeFs,
  path: string,
  key: string,
  maxBytes: number | undefined,
): StoredValue | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, READ_FLAGS);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw foreignOr(error, path, key);
  }
  try {
    const stats = fs.fstatSync(fd);
    assertRegularWithin(path, key, stats, maxBytes);
    const data = new Uint8Array(stats.size);
    let filled = 0;
    while (filled < data.byteLength) {
      const read = fs.readSync(fd, data, filled, data.byteLength - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    return storedValue(data.subarray(0, filled), stats);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * {@link readNow} of a path that is most often missing (a held name, a key looked at
 * again after a miss), after an `lstat`, which costs no exception when there is nothing:
 * a failed `open` builds one, several times the cost of the call.
 */
export function readIfPresent(
  fs: NodeFs,
  path: string,
  key: string,
  maxBytes: number | undefined,
): StoredValue | undefined {
  if (fs.lstatSync(path, { throwIfNoEntry: false }) === undefined) return undefined;
  return readNow(fs, path, key, maxBytes);
}

/** The read through the thread pool, as {@link readNow} does it. */
export async function readLater(
  fs: NodeFs,
  path: string,
  key: string,
  maxBytes: number | undefined,
): Promise<StoredValue | undefined> {
  let handle: FileHandle;
  try {
    handle = await retryOnFdPressure(() => fs.promises.open(path, READ_FLAGS));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw foreignOr(error, path, key);
  }
  try {
    // Metadata from the open handle describes exactly the file being read, even if a
    // writer renames a new one over the path meanwhile.
    const stats = await handle.stat();
    assertRegularWithin(path, key, stats, maxBytes);
    const data = new Uint8Array(stats.size);
    let filled = 0;
    while (filled < data.byteLength) {
      const { bytesRead } = await handle.read(data, filled, data.byteLength - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return storedValue(data.subarray(0, filled), stats);
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Refuses what is not a regular file, and a file larger than the caller allows. */
function assertRegularWithin(
  path: string,
  key: string,
  stats: Stats,
  maxBytes: number | undefined,
): void {
  if (!stats.isFile()) throw foreignEntry(path, key, kindOf(stats));
  if (maxBytes !== undefined && stats.size > maxBytes) {
    throw tooLargeError(ADAPTER, key, maxBytes, stats.size);
  }
}
