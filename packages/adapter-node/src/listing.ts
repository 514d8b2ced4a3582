import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { assertValidPrefix, isValidKey } from '@sessionfs/core/adapter';
import type { FileCalls } from './file-calls.js';
import { toStoreError } from './fs-errors.js';
import type { SessionDirectory } from './session-directory.js';
import { STALE_LOCK_NAME, type TakeLock } from './take-lock.js';
import { settleHeld } from './takes.js';
import { HELD_NAME, TEMP_NAME } from './temp-names.js';

/** What listing and cleanup use of the adapter. */
export interface ListingContext {
  readonly directory: SessionDirectory;
  readonly calls: FileCalls;
  readonly takeLock: TakeLock;
  /** Throws `ERR_CLOSED` once the adapter is closed. */
  assertOpen(): void;
}

/**
 * The keys in the directory that start with `prefix`, streamed with one directory handle
 * at a time (the directory's, or each shard's in turn), so that a directory of millions of
 * files costs one descriptor.
 */
export async function* listKeys(adapter: ListingContext, prefix: string): AsyncIterable<string> {
  adapter.assertOpen();
  assertValidPrefix(prefix);
  adapter.directory.checkOnce();
  for (const dir of adapter.directory.fileDirectories()) {
    for await (const entry of entriesOf(adapter, dir, 'list')) {
      // Only regular files are values: never a link, a FIFO, a device or a directory.
      if (entry.isFile() && entry.name.startsWith(prefix) && isValidKey(entry.name)) {
        yield entry.name;
      }
    }
  }
}

/**
 * Removes the temp files and stale lock files older than `olderThanMs`, and settles the
 * held files that takers which died left behind (see `settleHeld`); resolves how many
 * entries went. A dry run only counts them.
 */
export async function cleanUp(
  adapter: ListingContext,
  olderThanMs: number,
  dryRun = false,
): Promise<number> {
  adapter.assertOpen();
  adapter.directory.checkOnce();
  const { calls, directory } = adapter;
  const cutoff = Date.now() - olderThanMs;
  let removed = 0;
  // The directory itself holds the take lock's leftovers, and a sharded one's files before
  // it was laid out anew.
  const dirs = new Set([directory.path, ...directory.fileDirectories()]);
  for (const dir of dirs) {
    for await (const { name } of entriesOf(adapter, dir, 'clean up')) {
      const held = HELD_NAME.exec(name)?.[1];
      if (!TEMP_NAME.test(name) && !STALE_LOCK_NAME.test(name) && held === undefined) continue;
      const path = join(dir, name);
      try {
        // ctime, not mtime: a temp or held file's mtime holds the record's expiry.
        const stats = await calls.lstat(path);
        if (stats === undefined || stats.ctimeMs > cutoff) continue;
        if (dryRun) {
          removed += 1;
        } else if (held === undefined) {
          if (await calls.unlink(path)) removed += 1;
        } else if (
          isValidKey(held) &&
          (await settleHeld(calls, adapter.takeLock, dir, held, path))
        ) {
          removed += 1;
        }
      } catch (error) {
        throw toStoreError(error, 'clean up', dir);
      }
    }
  }
  return removed;
}

/** The entries of `dir`, streamed; none while it does not exist. */
async function* entriesOf(
  adapter: ListingContext,
  dir: string,
  action: string,
): AsyncIterable<Dirent> {
  const handle = await adapter.directory.open(action, dir);
  if (handle === undefined) return;
  try {
    for (;;) {
      let entry: Dirent | null;
      try {
        entry = await handle.read();
      } catch (error) {
        throw toStoreError(error, action, dir);
      }
      if (entry === null) return;
      yield entry;
    }
  } finally {
    await handle.close().catch(() => {});
  }
}
