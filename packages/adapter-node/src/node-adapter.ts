import { randomBytes } from 'node:crypto';
import type { Dir, Dirent, Stats } from 'node:fs';
import * as nodeFs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type AdapterCapabilities,
  type AdapterStat,
  assertValidKey,
  assertValidPrefix,
  ErrorCodes,
  type FsAdapter,
  isValidKey,
  type ReadOptions,
  redactError,
  SessionStoreError,
  type StoredValue,
  type TouchOptions,
  type WriteOptions,
  type WriteResult,
} from '@sessionfs/core';
import { retryOnFdPressure } from './fd-pressure.js';
import { errnoCode, toStoreError } from './fs-errors.js';

/** The part of `node:fs/promises` the adapter uses. */
export type NodeFsPromises = Pick<
  typeof nodeFs.promises,
  'mkdir' | 'open' | 'opendir' | 'rename' | 'stat' | 'unlink' | 'utimes'
>;

/**
 * The part of `node:fs` the adapter uses: the promise API, and the synchronous calls of
 * its fast paths. A memfs `Volume` provides it too.
 */
export type NodeFs = Pick<
  typeof nodeFs,
  | 'openSync'
  | 'fstatSync'
  | 'readSync'
  | 'writeSync'
  | 'futimesSync'
  | 'fsyncSync'
  | 'closeSync'
  | 'renameSync'
  | 'unlinkSync'
  | 'mkdirSync'
  | 'statSync'
  | 'utimesSync'
> & { promises: NodeFsPromises };

/** Options of {@link createNodeAdapter}. */
export interface NodeAdapterOptions {
  /** The directory holding one file per key. Created (mode `dirMode`) on first write. */
  dir: string;
  /**
   * Flush each file (and the directory entry) to stable storage before a write resolves.
   * Writes are atomic either way; `fsync` adds durability across power loss at the cost
   * of a disk flush per write. Default `false`.
   */
  fsync?: boolean;
  /** Mode of created files. Default `0o600`: sessions are readable by their owner only. */
  fileMode?: number;
  /**
   * Mode of the directory when the adapter creates it. Default `0o700`. An existing
   * directory is never re-chmodded: its owner chose its mode.
   */
  dirMode?: number;
  /**
   * Which calls are made synchronously.
   *
   * - `'auto'` (default): read, stat, touch and delete. On a local filesystem the kernel
   *   answers them from its caches in microseconds, far sooner than a round trip through
   *   libuv's thread pool, and the event loop is held for less time than that round
   *   trip would cost it; the adapter still lets the loop turn after a few such calls.
   *   Writes stay asynchronous: creating and renaming a file can take a millisecond on a
   *   busy disk.
   * - `'all'`: writes too.
   * - `'none'`: everything through the thread pool; use it on network filesystems (NFS,
   *   EFS), where any call may wait on the network.
   */
  sync?: 'auto' | 'all' | 'none';
  /** The file system to use. Default `node:fs`; `@sessionfs/adapter-memory` passes memfs. */
  fs?: NodeFs;
}

/**
 * File times cannot hold "never" and many filesystems stop at 2038-01-19 (signed 32-bit
 * seconds), so a value that never expires gets that last representable time. Expiries
 * at or after it read back as "never"; the store keeps the exact expiry inside the record.
 */
export const NEVER_EXPIRES_MTIME_MS = 2 ** 31 * 1000 - 1000;

const TEMP_SUFFIX = '.tmp';
/** The name of a temp file: a dot, the key, 16 random hex digits, `.tmp`. */
const TEMP_NAME = /^\.[a-z0-9][a-z0-9._-]*\.[0-9a-f]{16}\.tmp$/;
/**
 * Temp names are dot-prefixed, so they never match a key (keys cannot start with a dot)
 * and listings skip them, and unique: this process's random token, drawn once, and a
 * counter. (Drawing random bytes per write showed up in profiles.)
 */
const PROCESS_TOKEN = randomBytes(4).toString('hex');
let tempCounter = 0;

/** 16 hex digits: the process token, then the next value of the counter. */
function tempToken(): string {
  tempCounter = (tempCounter + 1) >>> 0;
  return PROCESS_TOKEN + tempCounter.toString(16).padStart(8, '0');
}

/** Synchronous calls allowed in one turn of the event loop (a few hundred microseconds). */
const SYNC_CALLS_PER_TURN = 32;
const CAPABILITIES: AdapterCapabilities = Object.freeze({
  storesExpiry: true,
  nativeExpiry: false,
  // Later expiries read back as "never": the store keeps them in the record.
  expiresUntil: NEVER_EXPIRES_MTIME_MS - 1,
});

/** An `FsAdapter` over a directory of files. */
export interface NodeAdapter extends FsAdapter {
  /** The directory holding one file per key (absolute when the adapter uses node:fs). */
  readonly dir: string;
  stat(key: string): Promise<AdapterStat | null>;
  touch(key: string, expiresAt: number, options?: TouchOptions): Promise<boolean>;
  move(from: string, to: string): Promise<boolean>;
  cleanup(olderThanMs: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * An `FsAdapter` over a directory: one file per key, written atomically (a temp file in
 * the same directory, then a rename over the key), expiry kept in the file's mtime so a
 * reaper finds expired files with a `stat` and `touch` is a single `utimes`.
 */
export function createNodeAdapter(options: NodeAdapterOptions): NodeAdapter {
  if (typeof options?.dir !== 'string' || options.dir === '') {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      '@sessionfs/adapter-node: option `dir` must be a non-empty directory path',
    );
  }
  return new DirectoryAdapter(options);
}

class DirectoryAdapter implements NodeAdapter {
  readonly capabilities = CAPABILITIES;
  readonly dir: string;
  private readonly fs: NodeFs;
  private readonly fsync: boolean;
  private readonly fileMode: number;
  private readonly dirMode: number;
  /** Read, stat, touch and delete synchronously. */
  private readonly syncReads: boolean;
  /** Write synchronously too. */
  private readonly syncWrites: boolean;
  private closed = false;
  /** Synchronous calls made since the event loop last turned. */
  private callsThisTurn = 0;
  private turnEndScheduled = false;

  constructor(options: NodeAdapterOptions) {
    this.fs = options.fs ?? nodeFs;
    this.dir = options.fs ? options.dir : resolve(options.dir);
    this.fsync = options.fsync ?? false;
    this.fileMode = options.fileMode ?? 0o600;
    this.dirMode = options.dirMode ?? 0o700;
    const sync = options.sync ?? 'auto';
    if (sync !== 'auto' && sync !== 'all' && sync !== 'none') {
      throw new SessionStoreError(
        ErrorCodes.INVALID_OPTION,
        "@sessionfs/adapter-node: option `sync` must be 'auto', 'all' or 'none'",
      );
    }
    this.syncReads = sync !== 'none';
    this.syncWrites = sync === 'all';
  }

  async read(key: string, options: ReadOptions = {}): Promise<StoredValue | null> {
    const path = this.pathOf(key);
    if (this.syncReads) {
      await this.shareTheLoop();
      try {
        return this.readNow(path, options.maxBytes);
      } catch (error) {
        // Out of descriptors: take the path that waits for one instead of failing.
        if (!isFdPressure(error)) throw toStoreError(error, 'read', path, key);
      }
    }
    let handle: FileHandle;
    try {
      handle = await retryOnFdPressure(() => this.fs.promises.open(path, 'r'));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return null;
      throw toStoreError(error, 'read', path, key);
    }
    try {
      // Metadata from the open handle describes exactly the file being read, even if a
      // writer renames a new one over the path meanwhile.
      const stats = await handle.stat();
      assertWithin(path, stats.size, options.maxBytes);
      const data = await handle.readFile();
      return storedValue(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), stats);
    } catch (error) {
      throw toStoreError(error, 'read', path, key);
    } finally {
      await handle.close().catch(() => {});
    }
  }

  async write(key: string, data: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
    const path = this.pathOf(key);
    const mtime = mtimeSecondsFor(options.expiresAt);
    const temp = join(this.dir, `.${key}.${tempToken()}${TEMP_SUFFIX}`);
    if (this.syncWrites) {
      await this.shareTheLoop();
      try {
        return this.writeNow(key, temp, path, data, mtime);
      } catch (error) {
        if (!isFdPressure(error)) throw toStoreError(error, 'write', path, key);
      }
    }
    try {
      const written = await this.withDirectory(() => this.writeTemp(temp, data, mtime));
      await this.fs.promises.rename(temp, path);
      if (this.fsync) await this.syncDirectory();
      return written;
    } catch (error) {
      await this.fs.promises.unlink(temp).catch(() => {});
      throw toStoreError(error, 'write', path, key);
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    if (this.syncReads) await this.shareTheLoop();
    try {
      if (this.syncReads) this.fs.unlinkSync(path);
      else await this.fs.promises.unlink(path);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw toStoreError(error, 'delete', path, key);
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    this.assertOpen();
    assertValidPrefix(prefix);
    let directory: Dir;
    try {
      directory = await retryOnFdPressure(() =>
        this.fs.promises.opendir(this.dir, { bufferSize: 256 }),
      );
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return;
      throw toStoreError(error, 'list', this.dir);
    }
    try {
      for (;;) {
        let entry: Dirent | null;
        try {
          entry = await directory.read();
        } catch (error) {
          throw toStoreError(error, 'list', this.dir);
        }
        if (entry === null) return;
        if (entry.isDirectory() || !entry.name.startsWith(prefix) || !isValidKey(entry.name)) {
          continue;
        }
        yield entry.name;
      }
    } finally {
      await directory.close().catch(() => {});
    }
  }

  async stat(key: string): Promise<AdapterStat | null> {
    const path = this.pathOf(key);
    try {
      return describe(this.syncReads ? this.fs.statSync(path) : await this.fs.promises.stat(path));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return null;
      throw toStoreError(error, 'stat', path, key);
    }
  }

  async touch(key: string, expiresAt: number, options: TouchOptions = {}): Promise<boolean> {
    const path = this.pathOf(key);
    const mtime = mtimeSecondsFor(expiresAt);
    if (this.syncReads) await this.shareTheLoop();
    try {
      if (options.ifVersion !== undefined) {
        // A rename landing between this stat and the utimes below gets the new expiry
        // too; its data is then newer than what the caller knew, and it stays alive.
        const stats = this.syncReads ? this.fs.statSync(path) : await this.fs.promises.stat(path);
        if (versionOf(stats) !== options.ifVersion) return false;
      }
      if (this.syncReads) this.fs.utimesSync(path, Date.now() / 1000, mtime);
      else await this.fs.promises.utimes(path, Date.now() / 1000, mtime);
      return true;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return false;
      throw toStoreError(error, 'touch', path, key);
    }
  }

  async move(from: string, to: string): Promise<boolean> {
    const source = this.pathOf(from);
    const target = this.pathOf(to);
    try {
      await this.fs.promises.rename(source, target);
      return true;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return false;
      throw toStoreError(redactError(error, to), 'move', source, from);
    }
  }

  async cleanup(olderThanMs: number): Promise<number> {
    this.assertOpen();
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    let directory: Dir;
    try {
      directory = await retryOnFdPressure(() =>
        this.fs.promises.opendir(this.dir, { bufferSize: 256 }),
      );
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return 0;
      throw toStoreError(error, 'clean up', this.dir);
    }
    try {
      for (let entry = await directory.read(); entry !== null; entry = await directory.read()) {
        if (!TEMP_NAME.test(entry.name)) continue;
        const path = join(this.dir, entry.name);
        try {
          // ctime, not mtime: the temp file's mtime already holds the record's expiry.
          if ((await this.fs.promises.stat(path)).ctimeMs > cutoff) continue;
          await this.fs.promises.unlink(path);
          removed += 1;
        } catch (error) {
          if (errnoCode(error) !== 'ENOENT') throw error;
        }
      }
    } catch (error) {
      throw toStoreError(error, 'clean up', this.dir);
    } finally {
      await directory.close().catch(() => {});
    }
    return removed;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new SessionStoreError(ErrorCodes.CLOSED, '@sessionfs/adapter-node: adapter is closed');
    }
  }

  /**
   * A synchronous call settles its promise without the event loop turning, so a caller
   * that loops over them (a listing, a busy reader) would starve timers and I/O. After
   * a few such calls in one turn, wait for the next turn. Resolves nothing (no promise,
   * no extra microtask) when there is no need to wait.
   */
  private shareTheLoop(): Promise<void> | undefined {
    if (this.callsThisTurn >= SYNC_CALLS_PER_TURN) {
      // Whoever waited goes next, whatever the budget: no caller starves another.
      return new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.countCall());
    }
    this.countCall();
    return undefined;
  }

  private countCall(): void {
    if (!this.turnEndScheduled) {
      this.turnEndScheduled = true;
      setImmediate(() => {
        this.callsThisTurn = 0;
        this.turnEndScheduled = false;
      });
    }
    this.callsThisTurn += 1;
  }

  /** The file of `key`, after checking that the adapter is open and the key is safe. */
  private pathOf(key: string): string {
    this.assertOpen();
    assertValidKey(key);
    return join(this.dir, key);
  }

  /** The synchronous read: open, fstat, read, close, with no thread-pool round trip. */
  private readNow(path: string, maxBytes: number | undefined): StoredValue | null {
    let fd: number;
    try {
      fd = this.fs.openSync(path, 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return null;
      throw error;
    }
    try {
      const stats = this.fs.fstatSync(fd);
      assertWithin(path, stats.size, maxBytes);
      const data = new Uint8Array(stats.size);
      let filled = 0;
      while (filled < data.byteLength) {
        const read = this.fs.readSync(fd, data, filled, data.byteLength - filled, filled);
        if (read === 0) break;
        filled += read;
      }
      return storedValue(data.subarray(0, filled), stats);
    } finally {
      this.fs.closeSync(fd);
    }
  }

  /** The synchronous write: temp file, expiry, rename; the temp file removed on failure. */
  private writeNow(
    key: string,
    temp: string,
    path: string,
    data: Uint8Array,
    mtime: number,
  ): WriteResult {
    let fd: number;
    try {
      fd = this.fs.openSync(temp, 'wx', this.fileMode);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      this.fs.mkdirSync(this.dir, { recursive: true, mode: this.dirMode });
      fd = this.fs.openSync(temp, 'wx', this.fileMode);
    }
    try {
      let version = '';
      try {
        let written = 0;
        while (written < data.byteLength) {
          written += this.fs.writeSync(fd, data, written, data.byteLength - written);
        }
        this.fs.futimesSync(fd, Date.now() / 1000, mtime);
        if (this.fsync) this.fs.fsyncSync(fd);
        version = versionOf(this.fs.fstatSync(fd));
      } finally {
        this.fs.closeSync(fd);
      }
      this.fs.renameSync(temp, path);
      if (this.fsync) {
        const directory = this.fs.openSync(this.dir, 'r');
        try {
          this.fs.fsyncSync(directory);
        } finally {
          this.fs.closeSync(directory);
        }
      }
      return { version };
    } catch (error) {
      try {
        this.fs.unlinkSync(temp);
      } catch {
        // Already renamed or never created: nothing to clean up.
      }
      throw toStoreError(error, 'write', path, key);
    }
  }

  /**
   * Writes the temp file, and resolves the version of what it holds: the rename keeps the
   * inode, birth time and size, so this is the version the key has once renamed.
   */
  private async writeTemp(path: string, data: Uint8Array, mtime: number): Promise<WriteResult> {
    const handle = await retryOnFdPressure(() => this.fs.promises.open(path, 'wx', this.fileMode));
    try {
      await handle.writeFile(data);
      await handle.utimes(Date.now() / 1000, mtime);
      if (this.fsync) await handle.sync();
      return { version: versionOf(await handle.stat()) };
    } finally {
      await handle.close();
    }
  }

  /** Runs `operation`, creating the directory first if it turns out to be missing. */
  private async withDirectory<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      // `recursive` leaves an existing directory (and its mode) alone.
      await this.fs.promises.mkdir(this.dir, { recursive: true, mode: this.dirMode });
      return await operation();
    }
  }

  private async syncDirectory(): Promise<void> {
    const handle = await this.fs.promises.open(this.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

function isFdPressure(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'EMFILE' || code === 'ENFILE';
}

function assertWithin(path: string, size: number, maxBytes: number | undefined): void {
  if (maxBytes !== undefined && size > maxBytes) {
    throw new SessionStoreError(
      ErrorCodes.TOO_LARGE,
      `@sessionfs/adapter-node: ${path} holds ${size} bytes, more than the ${maxBytes} allowed`,
    );
  }
}

function storedValue(data: Uint8Array, stats: Stats): StoredValue {
  return { data, ...describe(stats), size: data.byteLength };
}

/** What a file's metadata says of the value it holds. */
function describe(stats: Stats): AdapterStat {
  const mtimeMs = Math.round(stats.mtimeMs);
  return {
    size: stats.size,
    ...(mtimeMs < NEVER_EXPIRES_MTIME_MS ? { expiresAt: mtimeMs } : {}),
    version: versionOf(stats),
  };
}

/**
 * Every write renames a new file into place: a new inode with its own birth time (inode
 * numbers are reused, birth times are not). A touch changes neither, so moving the expiry
 * leaves the version, and any cached copy, valid; a rename keeps both, so the temp file's
 * version is the key's once renamed.
 */
function versionOf(stats: Stats): string {
  return `${stats.ino}:${stats.birthtimeMs}:${stats.size}`;
}

function mtimeSecondsFor(expiresAt: number | undefined): number {
  if (expiresAt === undefined) return NEVER_EXPIRES_MTIME_MS / 1000;
  if (typeof expiresAt !== 'number' || Number.isNaN(expiresAt)) {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      `@sessionfs/adapter-node: expiresAt must be epoch milliseconds, got ${String(expiresAt)}`,
    );
  }
  return Math.min(Math.max(expiresAt, 0), NEVER_EXPIRES_MTIME_MS) / 1000;
}
