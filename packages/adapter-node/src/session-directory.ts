import type { Dir, Stats } from 'node:fs';
import * as nodeFs from 'node:fs';
import { dirname, join } from 'node:path';
import { PROCESS_TOKEN_HEX, SessionStoreError } from '@sessionfs/core/adapter';
import { assertSafeDirectory, type DirectoryAccess, type WarnFn } from './directory-safety.js';
import { retryOnFdPressure } from './fd-pressure.js';
import { errnoCode, toStoreError } from './fs-errors.js';
import {
  type DirectoryLayout,
  fileDirectories,
  LAYOUT_FILE,
  layoutFileContent,
  readLayout,
  SHARD_NAMES,
  shardOf,
} from './layout.js';
import type { NodeFs } from './node-fs.js';

let buildCounter = 0;

/**
 * The directory that holds the session files: checked once, created on demand with its
 * layout, which it then keeps.
 */
export class SessionDirectory {
  /**
   * Checks the directory's owner and mode, where other users can reach it; cleared once
   * the directory was found safe. Until then every call checks it again: it may be created
   * later, by this adapter or by someone else.
   */
  check: ((stats: Stats) => void) | undefined;
  /** The directory gets its mode set explicitly: a umask would take group write. */
  private readonly sharedWithGroup: boolean;
  /** The layout found on disk, once the directory exists; it never changes after. */
  private knownLayout: DirectoryLayout | undefined;

  /**
   * Throws `ERR_UNSAFE_DIRECTORY` for an existing directory that others could use to
   * forge sessions (see `access`). The owner and mode are checked on `node:fs` only: no
   * other user can reach a file system in memory.
   */
  constructor(
    private readonly fs: NodeFs,
    readonly path: string,
    access: DirectoryAccess,
    private readonly mode: number,
    private readonly fileMode: number,
    /** The layout of the directory when this adapter creates it. */
    private readonly newLayout: DirectoryLayout,
    warn: WarnFn | undefined,
  ) {
    this.sharedWithGroup = access === 'group';
    if (fs === nodeFs) {
      const warnTo = warn ?? ((message: string) => process.emitWarning(message));
      this.check = (stats) => assertSafeDirectory(path, stats, access, warnTo);
      this.checkOnce();
    }
  }

  /**
   * Checks the directory if it exists now, and never again once it was found safe. A
   * missing one is checked again on the next call: whoever creates it, this adapter or
   * another user, what it turns out to be is checked before it is used.
   */
  checkOnce(): void {
    const check = this.check;
    if (!check) return;
    let stats: Stats;
    try {
      stats = this.fs.statSync(this.path);
    } catch {
      // Missing (created later), or unreachable: then every operation reports why.
      return;
    }
    check(stats);
    this.check = undefined;
  }

  /**
   * The directory's layout: from its layout file, or the one it will be created with while
   * it does not exist (nothing is found at any path then). Read once the directory exists.
   */
  layout(): DirectoryLayout {
    if (this.knownLayout === undefined) {
      try {
        this.knownLayout = readLayout(this.fs, this.path);
      } catch (error) {
        if (SessionStoreError.isInstance(error)) throw error;
        throw toStoreError(error, 'read the layout of', this.path);
      }
    }
    return this.knownLayout ?? this.newLayout;
  }

  /**
   * Before a write: creates the directory unless it is known to exist, so that the write's
   * paths follow the layout it has (another process may have made it, laid out otherwise).
   */
  createOnFirstWrite(): void {
    if (this.knownLayout === undefined) this.create();
  }

  /** The directory that holds the file of `key`. */
  directoryOf(key: string): string {
    return this.layout() === 'flat' ? this.path : join(this.path, shardOf(key));
  }

  /** Every directory that may hold session files: the directory itself, or its shards. */
  fileDirectories(): string[] {
    return fileDirectories(this.path, this.layout());
  }

  /**
   * Creates `directory` (the directory, or one of its shards) if it is missing, with the
   * adapter's mode, and whatever is there now (another process, or another user, may have
   * made it since the adapter started) is checked again.
   */
  create(directory = this.path): void {
    if (this.fs.statSync(this.path, { throwIfNoEntry: false }) === undefined) {
      this.createWithLayout(this.knownLayout ?? this.newLayout);
      this.knownLayout = undefined;
    }
    this.checkOnce();
    this.layout();
    if (directory !== this.path) this.makeDirectory(directory);
  }

  /**
   * Creates the directory laid out as `layout`. It appears whole: its layout file (and
   * shards) are made under a temporary name beside it, then renamed into place, so that
   * no process ever sees it without its layout file and takes it for flat. When another
   * process made it first, theirs stays: a rename fails over a directory that is not empty,
   * and one that appeared empty (made by hand) is never replaced.
   */
  private createWithLayout(layout: DirectoryLayout): void {
    this.fs.mkdirSync(dirname(this.path), { recursive: true, mode: this.mode });
    buildCounter = (buildCounter + 1) >>> 0;
    const building = `${this.path}.${PROCESS_TOKEN_HEX}${buildCounter.toString(16)}.creating`;
    this.makeDirectory(building);
    try {
      if (layout === 'sharded') {
        for (const name of SHARD_NAMES) this.makeDirectory(join(building, name));
      }
      const layoutFile = this.fs.openSync(join(building, LAYOUT_FILE), 'wx', this.fileMode);
      try {
        this.fs.writeSync(layoutFile, layoutFileContent(layout));
      } finally {
        this.fs.closeSync(layoutFile);
      }
      if (this.fs.lstatSync(this.path, { throwIfNoEntry: false }) === undefined) {
        this.fs.renameSync(building, this.path);
      }
    } catch (error) {
      const code = errnoCode(error);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    } finally {
      this.fs.rmSync(building, { recursive: true, force: true });
    }
  }

  /** Makes `directory` with the adapter's mode, unless it exists. */
  private makeDirectory(directory: string): void {
    try {
      this.fs.mkdirSync(directory, { mode: this.mode });
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
      return;
    }
    if (this.sharedWithGroup) this.fs.chmodSync(directory, this.mode);
  }

  /** Flushes the entries (a rename) of `directory`, this one or a shard, to stable storage. */
  syncNow(directory: string): void {
    const handle = this.fs.openSync(directory, 'r');
    try {
      this.fs.fsyncSync(handle);
    } finally {
      this.fs.closeSync(handle);
    }
  }

  /** {@link syncNow} through the thread pool. */
  async sync(directory: string): Promise<void> {
    const handle = await this.fs.promises.open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /**
   * Opens `directory` (this one or a shard) to stream its entries; `undefined` while it
   * does not exist. `action` names what failed in an error.
   */
  async open(action: string, directory = this.path): Promise<Dir | undefined> {
    try {
      return await retryOnFdPressure(() =>
        this.fs.promises.opendir(directory, { bufferSize: 256 }),
      );
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw toStoreError(error, action, directory);
    }
  }
}
