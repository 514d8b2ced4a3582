import * as nodeFs from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCodes, isValidKey, SessionStoreError } from '@sessionfs/core/adapter';
import { ADAPTER, errnoCode, toStoreError } from './fs-errors.js';
import {
  type DirectoryLayout,
  LAYOUT_FILE,
  layoutFileContent,
  readLayout,
  SHARD_NAME,
  SHARD_NAMES,
  shardOf,
} from './layout.js';
import { createNodeAdapter } from './node-adapter.js';
import type { NodeFs } from './node-fs.js';

/** Options of {@link relayout}. */
export interface RelayoutOptions {
  /** The session directory. It must exist. */
  dir: string;
  /** The layout it gets. */
  layout: DirectoryLayout;
  /** Called every 1,000 files moved, with how many so far. */
  onProgress?: (moved: number) => void;
  /** Stops between two files; running it again goes on. */
  signal?: AbortSignal;
  /** Default `node:fs`. */
  fs?: NodeFs;
}

/** What {@link relayout} did. */
export interface RelayoutResult {
  /** The layout the directory had. */
  from: DirectoryLayout;
  /** Session files moved to where `layout` keeps them. */
  moved: number;
  /** Whether `signal` stopped it before the end: run it again to go on. */
  stopped: boolean;
}

/**
 * Lays the session directory `dir` out anew (see the adapter's `layout` option): every
 * session file moves, by a rename within the file system, to where the new layout keeps
 * it, and the layout file says the new layout. Nothing is copied, and no file is
 * overwritten.
 *
 * Run it while no process uses the directory: a server keeps the layout it found when it
 * started, and would not find the sessions moved under it. Interrupted (Ctrl+C, a crash),
 * it leaves every session whole, in one place or the other; run it again before starting
 * the servers: it finds the files wherever they are.
 */
export async function relayout(options: RelayoutOptions): Promise<RelayoutResult> {
  const fs = options.fs ?? nodeFs;
  const dir = options.fs ? options.dir : resolve(options.dir);
  const from = readLayout(fs, dir);
  if (from === undefined) {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      `${ADAPTER}: ${dir} does not exist: there is nothing to lay out`,
    );
  }
  const { layout } = options;
  // What takers that died left held goes back in place first, as the old layout has it.
  const adapter = createNodeAdapter({ dir, fs, layout: from });
  await adapter.cleanup(0);
  await adapter.close();

  const mode = fs.statSync(dir).mode & 0o7777;
  // First: files found in either place are moved on by a run that follows a crash.
  writeLayoutFile(fs, dir, layoutFileContent(layout), mode);
  if (layout === 'sharded') {
    for (const name of SHARD_NAMES) makeShard(fs, join(dir, name), mode);
  }
  const result: RelayoutResult = { from, moved: 0, stopped: false };
  for (const holder of [dir, ...shardsIn(fs, dir)]) {
    // Streamed, one directory handle at a time: a million names are never held at once.
    const entries = await fs.promises.opendir(holder, { bufferSize: 256 });
    try {
      for await (const entry of entries) {
        const { name } = entry;
        if (!entry.isFile() || !isValidKey(name)) continue;
        const to = layout === 'flat' ? dir : join(dir, shardOf(name));
        if (to === holder) continue;
        if (options.signal?.aborted) {
          result.stopped = true;
          return result;
        }
        moveWithoutOverwriting(fs, join(holder, name), join(to, name), name);
        result.moved += 1;
        if (result.moved % 1_000 === 0) {
          options.onProgress?.(result.moved);
          // Lets a Ctrl+C handler run.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      await entries.close().catch(() => {});
    }
  }
  if (layout === 'flat') {
    for (const shard of shardsIn(fs, dir)) removeIfEmpty(fs, shard);
  }
  return result;
}

/** The shard directories in `dir`, whatever its layout file says. */
function shardsIn(fs: NodeFs, dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && SHARD_NAME.test(entry.name))
    .map((entry) => join(dir, entry.name));
}

function makeShard(fs: NodeFs, shard: string, mode: number): void {
  try {
    fs.mkdirSync(shard, { mode });
    fs.chmodSync(shard, mode);
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
  }
}

/**
 * Moves `source` to `target` unless a file is there already (link, then unlink): then that
 * one, in the place the layout looks, stays, and `source` goes.
 */
function moveWithoutOverwriting(fs: NodeFs, source: string, target: string, key: string): void {
  try {
    fs.linkSync(source, target);
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw toStoreError(error, 'move', source, key);
  }
  fs.unlinkSync(source);
}

/** Writes the layout file whole: a temp file renamed over it. */
function writeLayoutFile(fs: NodeFs, dir: string, content: string, dirMode: number): void {
  const temp = join(dir, `${LAYOUT_FILE}.${process.pid}.tmp`);
  fs.writeFileSync(temp, content, { mode: dirMode & 0o666 });
  fs.renameSync(temp, join(dir, LAYOUT_FILE));
}

function removeIfEmpty(fs: NodeFs, dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch (error) {
    if (errnoCode(error) !== 'ENOTEMPTY' && errnoCode(error) !== 'EEXIST') throw error;
  }
}
