import type { Dir, Dirent, Stats } from 'node:fs';
import * as nodeFs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AdapterCapabilities,
  type AdapterStat,
  assertValidKey,
  assertValidPrefix,
  type DeleteOptions,
  ErrorCodes,
  type FsAdapter,
  isValidKey,
  type MoveOptions,
  type ReadOptions,
  redactError,
  redactKey,
  SessionStoreError,
  type StoredValue,
  type TouchOptions,
  type WriteOptions,
  type WriteResult,
} from '@sessionfs/core/adapter';
import { assertSafeDirectory, type DirectoryAccess, type WarnFn } from './directory-safety.js';
import { retryOnFdPressure } from './fd-pressure.js';
import { asynchronousCalls, type FileCalls, synchronousCalls } from './file-calls.js';
import { errnoCode, toStoreError } from './fs-errors.js';
import type { NodeFs } from './node-fs.js';
import { STALE_LOCK_NAME, TAKE_LOCK_NAME, TakeLock } from './take-lock.js';
import { HELD_NAME, heldNameFor, TEMP_NAME, tempNameFor } from './temp-names.js';

export type { DirectoryAccess, WarnFn } from './directory-safety.js';
export type { NodeFs, NodeFsPromises } from './node-fs.js';

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
  /**
   * Who may use the directory. `'owner'` (default): it must belong to this process's user
   * and nobody else may write it, or the adapter refuses it with `ERR_UNSAFE_DIRECTORY`:
   * a local user who can write it can forge sessions. `'group'`: the processes of several
   * users share it on purpose: it may belong to any member of one of this process's
   * groups and be group-writable (never writable by others), and the files and directory
   * the adapter creates are group-readable and -writable. Either way, a directory that
   * more users than that can list is used, with one warning.
   */
  access?: DirectoryAccess;
  /** Mode of created files. Default `0o600` (`0o660` with `access: 'group'`). */
  fileMode?: number;
  /**
   * Mode of the directory when the adapter creates it. Default `0o700` (`0o770` with
   * `access: 'group'`). An existing directory is never re-chmodded: its owner chose its
   * mode (and the adapter refuses one that is unsafe).
   */
  dirMode?: number;
  /**
   * Where the one warning about a directory that others can list goes. Default:
   * `process.emitWarning`.
   */
  warn?: WarnFn;
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
  /**
   * The file system to use. Default `node:fs`; `@sessionfs/adapter-memory` passes memfs.
   * The directory's owner and mode are checked on `node:fs` only: no other user can reach
   * a file system in memory.
   */
  fs?: NodeFs;
}

/**
 * File times cannot hold "never" and many filesystems stop at 2038-01-19 (signed 32-bit
 * seconds), so a value that never expires gets that last representable time. Expiries
 * at or after it read back as "never"; the store keeps the exact expiry inside the record.
 */
export const NEVER_EXPIRES_MTIME_MS = 2 ** 31 * 1000 - 1000;

/** Opens a session file without following a link and without blocking on a FIFO. */
const READ_FLAGS =
  nodeFs.constants.O_RDONLY | nodeFs.constants.O_NOFOLLOW | nodeFs.constants.O_NONBLOCK;
/** How long a touch waits for a take of its key (see `takeIf`) to put the file back. */
const TAKE_WAIT_MS = 50;

/** Synchronous calls allowed in one turn of the event loop (a few hundred microseconds). */
const SYNC_CALLS_PER_TURN = 32;
const CAPABILITIES: AdapterCapabilities = Object.freeze({
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
  move(from: string, to: string, options?: MoveOptions): Promise<boolean>;
  cleanup(olderThanMs: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * An `FsAdapter` over a directory: one file per key, written atomically (a temp file in
 * the same directory, then a rename over the key), expiry kept in the file's mtime so a
 * reaper finds expired files with a `stat` and `touch` is a single `utimes`.
 *
 * Throws `ERR_UNSAFE_DIRECTORY` for an existing directory that others could use to forge
 * sessions (see `access`).
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

/** A condition a take checks, twice: before it moves the file away, and after. */
type Condition = (stats: Stats) => boolean;

class DirectoryAdapter implements NodeAdapter {
  readonly capabilities = CAPABILITIES;
  readonly dir: string;
  private readonly fs: NodeFs;
  private readonly fsync: boolean;
  private readonly fileMode: number;
  private readonly dirMode: number;
  /**
   * Checks the directory's owner and mode, where other users can reach it; cleared once
   * the directory was found safe. Until then every call checks it again: it may be created
   * later, by this adapter or by someone else.
   */
  private checkDirectory: ((stats: Stats) => void) | undefined;
  /** Files and directory get their mode set explicitly: a umask would take group write. */
  private readonly sharedWithGroup: boolean;
  /** Read, stat, touch and delete synchronously. */
  private readonly syncReads: boolean;
  /** Write synchronously too. */
  private readonly syncWrites: boolean;
  /** Stat, rename, link, unlink and times, as `syncReads` says. */
  private readonly calls: FileCalls;
  private readonly takeLock: TakeLock;
  /** The take lock's file: while it is absent, no file is held by a take. */
  private readonly takeLockPath: string;
  private closed = false;
  /** Synchronous calls made since the event loop last turned. */
  private callsThisTurn = 0;
  private turnEndScheduled = false;

  constructor(options: NodeAdapterOptions) {
    this.fs = options.fs ?? nodeFs;
    this.dir = options.fs ? options.dir : resolve(options.dir);
    this.fsync = options.fsync ?? false;
    const access = options.access ?? 'owner';
    if (access !== 'owner' && access !== 'group') {
      throw new SessionStoreError(
        ErrorCodes.INVALID_OPTION,
        "@sessionfs/adapter-node: option `access` must be 'owner' or 'group'",
      );
    }
    this.sharedWithGroup = access === 'group';
    this.fileMode = options.fileMode ?? (this.sharedWithGroup ? 0o660 : 0o600);
    this.dirMode = options.dirMode ?? (this.sharedWithGroup ? 0o770 : 0o700);
    const sync = options.sync ?? 'auto';
    if (sync !== 'auto' && sync !== 'all' && sync !== 'none') {
      throw new SessionStoreError(
        ErrorCodes.INVALID_OPTION,
        "@sessionfs/adapter-node: option `sync` must be 'auto', 'all' or 'none'",
      );
    }
    this.syncReads = sync !== 'none';
    this.syncWrites = sync === 'all';
    this.calls = this.syncReads ? synchronousCalls(this.fs) : asynchronousCalls(this.fs);
    this.takeLock = new TakeLock(this.fs, this.dir);
    this.takeLockPath = join(this.dir, TAKE_LOCK_NAME);
    if (this.fs === nodeFs) {
      const warn = options.warn ?? ((message: string) => process.emitWarning(message));
      this.checkDirectory = (stats) => assertSafeDirectory(this.dir, stats, access, warn);
      this.checkDirectoryOnce();
    }
  }

  /**
   * Reads the file of `key`. While a take (see `takeIf`) holds it under its held name for
   * a moment, the file is read there: a session being checked by the reaper of another
   * process is still found. Takes happen only under the take lock, so a read that finds
   * nothing looks under the held name only while the lock exists, then at the key once
   * more: a take that ended since the first look has put the file back.
   */
  async read(key: string, options: ReadOptions = {}): Promise<StoredValue | null> {
    const path = this.pathOf(key);
    const { maxBytes } = options;
    if (this.syncReads) {
      await this.shareTheLoop();
      try {
        const value = this.readNow(path, key, maxBytes);
        if (value !== undefined) return value;
        if (this.fs.lstatSync(this.takeLockPath, { throwIfNoEntry: false }) !== undefined) {
          const held = this.readIfPresent(join(this.dir, heldNameFor(key)), key, maxBytes);
          if (held !== undefined) return held;
        }
        return this.readIfPresent(path, key, maxBytes) ?? null;
      } catch (error) {
        // Out of descriptors: take the path that waits for one instead of failing.
        if (!isFdPressure(error)) throw toStoreError(error, 'read', path, key);
      }
    }
    try {
      const value = await this.readLater(path, key, maxBytes);
      if (value !== undefined) return value;
      if ((await this.calls.lstat(this.takeLockPath)) !== undefined) {
        const held = await this.readLater(join(this.dir, heldNameFor(key)), key, maxBytes);
        if (held !== undefined) return held;
      }
      return (await this.readLater(path, key, maxBytes)) ?? null;
    } catch (error) {
      throw toStoreError(error, 'read', path, key);
    }
  }

  async write(key: string, data: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
    const path = this.pathOf(key);
    const mtime = mtimeSecondsFor(options.expiresAt);
    const temp = join(this.dir, tempNameFor(key));
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

  /**
   * Removes the file of `key`. Unconditionally, it also removes the file under its held
   * name and then the key again: a take that moved a live file away to check it would
   * otherwise put it back after this delete.
   */
  async delete(key: string, options: DeleteOptions = {}): Promise<boolean> {
    const path = this.pathOf(key);
    const { ifVersion, ifExpiredAt } = options;
    if (ifVersion !== undefined || ifExpiredAt !== undefined) {
      return this.takeIf(key, (stats) => {
        if (ifVersion !== undefined && versionOf(stats) !== ifVersion) return false;
        return ifExpiredAt === undefined || expiryOf(stats) <= ifExpiredAt;
      });
    }
    if (this.syncReads) await this.shareTheLoop();
    try {
      const removed = await this.calls.unlink(path);
      // A missing entry seen by lstat is as good as a failed unlink at that moment, and
      // costs no exception.
      const held = join(this.dir, heldNameFor(key));
      if ((await this.calls.lstat(held)) !== undefined) await this.calls.unlink(held);
      if ((await this.calls.lstat(path)) === undefined) return removed;
      return (await this.calls.unlink(path)) || removed;
    } catch (error) {
      throw toStoreError(error, 'delete', path, key);
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    this.assertOpen();
    assertValidPrefix(prefix);
    this.checkDirectoryOnce();
    const directory = await this.openDirectory('list');
    if (directory === undefined) return;
    try {
      for (;;) {
        let entry: Dirent | null;
        try {
          entry = await directory.read();
        } catch (error) {
          throw toStoreError(error, 'list', this.dir);
        }
        if (entry === null) return;
        // Only regular files are values: never a link, a FIFO, a device or a directory.
        if (!entry.isFile() || !entry.name.startsWith(prefix) || !isValidKey(entry.name)) {
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
      // As `read` looks: under the held name while a take may be under way.
      const stats =
        (await this.calls.lstat(path)) ??
        ((await this.calls.lstat(this.takeLockPath)) === undefined
          ? undefined
          : await this.calls.lstat(join(this.dir, heldNameFor(key)))) ??
        (await this.calls.lstat(path));
      return stats?.isFile() ? describe(stats) : null;
    } catch (error) {
      throw toStoreError(error, 'stat', path, key);
    }
  }

  async touch(key: string, expiresAt: number, options: TouchOptions = {}): Promise<boolean> {
    const path = this.pathOf(key);
    const mtime = mtimeSecondsFor(expiresAt);
    const { ifVersion, ifLiveAt } = options;
    if (this.syncReads) await this.shareTheLoop();
    const waitUntil = Date.now() + TAKE_WAIT_MS;
    try {
      for (;;) {
        const stats = await this.calls.lstat(path);
        if (stats !== undefined) {
          // Never a link: its target may be anywhere.
          if (!stats.isFile()) return false;
          if (ifVersion !== undefined && versionOf(stats) !== ifVersion) return false;
          if (ifLiveAt !== undefined && expiryOf(stats) <= ifLiveAt) return false;
          // A rename landing between the lstat and this gets the new expiry too; its data
          // is then newer than what the caller knew, and it stays alive.
          if (await this.calls.lutimes(path, Date.now() / 1000, mtime)) return true;
        }
        // Gone, or held by a take for a moment: wait for the take to put it back.
        const held = join(this.dir, heldNameFor(key));
        if ((await this.calls.lstat(held)) === undefined || Date.now() > waitUntil) return false;
        await sleep(1);
      }
    } catch (error) {
      throw toStoreError(error, 'touch', path, key);
    }
  }

  async move(from: string, to: string, options: MoveOptions = {}): Promise<boolean> {
    const source = this.pathOf(from);
    const target = this.pathOf(to);
    const { ifVersion } = options;
    if (ifVersion !== undefined) {
      return this.takeIf(from, (stats) => versionOf(stats) === ifVersion, target);
    }
    try {
      return await this.calls.rename(source, target);
    } catch (error) {
      throw toStoreError(redactError(error, to), 'move', source, from);
    }
  }

  async cleanup(olderThanMs: number): Promise<number> {
    this.assertOpen();
    this.checkDirectoryOnce();
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    const directory = await this.openDirectory('clean up');
    if (directory === undefined) return 0;
    try {
      for (let entry = await directory.read(); entry !== null; entry = await directory.read()) {
        const { name } = entry;
        const held = HELD_NAME.exec(name)?.[1];
        if (!TEMP_NAME.test(name) && !STALE_LOCK_NAME.test(name) && held === undefined) continue;
        const path = join(this.dir, name);
        // ctime, not mtime: a temp or held file's mtime holds the record's expiry.
        const stats = await this.calls.lstat(path);
        if (stats === undefined || stats.ctimeMs > cutoff) continue;
        if (held === undefined) {
          if (await this.calls.unlink(path)) removed += 1;
        } else if (isValidKey(held) && (await this.settleHeld(held, path))) {
          removed += 1;
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
    this.takeLock.close();
  }

  /**
   * Removes (or, `to` given, moves) the file of `key` if `condition` holds for it, as one
   * step for every other caller, in this process or another:
   *
   * 1. The file is checked where it is: most files the reaper looks at are live.
   * 2. Under the take lock (one taker per directory at a time), it is renamed to its held
   *    name: that takes exactly one file, whatever is written to the key meanwhile.
   * 3. The held file is checked again: if it is the file checked in 1 (same inode) and the
   *    condition still holds, it goes. Otherwise a write or touch landed in between, and
   *    the file is linked back (unless a newer one is at the key already).
   *
   * No write is ever removed: a write lands on the key, never on the held name. While a
   * file is held, readers, `stat` and `touch` look for it under the held name, and an
   * unconditional `delete` removes it there too, so that it is neither missed nor brought
   * back.
   */
  private async takeIf(key: string, condition: Condition, to?: string): Promise<boolean> {
    const path = this.pathOf(key);
    const held = join(this.dir, heldNameFor(key));
    try {
      if (this.syncReads) await this.shareTheLoop();
      return await runTake(takeSteps(this.calls, this.takeLock, path, held, condition, to));
    } catch (error) {
      throw toStoreError(error, to === undefined ? 'delete' : 'move', path, key);
    }
  }

  /**
   * A held file left by a taker that died between its steps: the live file it held goes
   * back to its key unless a newer one is there; an expired one goes.
   */
  private async settleHeld(key: string, heldPath: string): Promise<boolean> {
    try {
      await this.takeLock.acquire();
    } catch (error) {
      if (SessionStoreError.isInstance(error) && error.code === ErrorCodes.BUSY) return false;
      throw error;
    }
    try {
      const stats = await this.calls.lstat(heldPath);
      if (stats?.isFile() && expiryOf(stats) > Date.now()) {
        await this.calls.link(heldPath, join(this.dir, key));
      }
      return await this.calls.unlink(heldPath);
    } finally {
      this.takeLock.release();
    }
  }

  private async openDirectory(action: string): Promise<Dir | undefined> {
    try {
      return await retryOnFdPressure(() => this.fs.promises.opendir(this.dir, { bufferSize: 256 }));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw toStoreError(error, action, this.dir);
    }
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
    if (this.checkDirectory) this.checkDirectoryOnce();
    return join(this.dir, key);
  }

  /**
   * Checks the directory if it exists now, and never again once it was found safe. A
   * missing one is checked again on the next call: whoever creates it, this adapter or
   * another user, what it turns out to be is checked before it is used.
   */
  private checkDirectoryOnce(): void {
    const check = this.checkDirectory;
    if (!check) return;
    let stats: Stats;
    try {
      stats = this.fs.statSync(this.dir);
    } catch {
      // Missing (created later), or unreachable: then every operation reports why.
      return;
    }
    check(stats);
    this.checkDirectory = undefined;
  }

  /**
   * The synchronous read: open (never following a link, never blocking), fstat, read what
   * the file holds and no more, close, with no thread-pool round trip. `undefined` when
   * there is no such file.
   */
  private readNow(
    path: string,
    key: string,
    maxBytes: number | undefined,
  ): StoredValue | undefined {
    let fd: number;
    try {
      fd = this.fs.openSync(path, READ_FLAGS);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw foreignOr(error, path, key);
    }
    try {
      const stats = this.fs.fstatSync(fd);
      assertRegularWithin(path, key, stats, maxBytes);
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

  /**
   * {@link readNow} of a path that is most often missing (a held name, a key looked at
   * again after a miss), after an `lstat`, which costs no exception when there is nothing:
   * a failed `open` builds one, several times the cost of the call.
   */
  private readIfPresent(
    path: string,
    key: string,
    maxBytes: number | undefined,
  ): StoredValue | undefined {
    if (this.fs.lstatSync(path, { throwIfNoEntry: false }) === undefined) return undefined;
    return this.readNow(path, key, maxBytes);
  }

  /** The read through the thread pool, as {@link readNow} does it. */
  private async readLater(
    path: string,
    key: string,
    maxBytes: number | undefined,
  ): Promise<StoredValue | undefined> {
    let handle: FileHandle;
    try {
      handle = await retryOnFdPressure(() => this.fs.promises.open(path, READ_FLAGS));
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
      this.createDirectory();
      fd = this.fs.openSync(temp, 'wx', this.fileMode);
    }
    try {
      if (this.sharedWithGroup) this.fs.fchmodSync(fd, this.fileMode);
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
      if (this.sharedWithGroup) await handle.chmod(this.fileMode);
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
      this.createDirectory();
      return await operation();
    }
  }

  /**
   * Creates the directory with the adapter's mode. `recursive` leaves an existing one
   * alone, so whatever is there now (another process, or another user, may have made it
   * since the adapter started) is checked again.
   */
  private createDirectory(): void {
    const created = this.fs.mkdirSync(this.dir, { recursive: true, mode: this.dirMode });
    if (created !== undefined && this.sharedWithGroup) this.fs.chmodSync(this.dir, this.dirMode);
    this.checkDirectoryOnce();
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

/**
 * The steps of `takeIf`, each a call whose result comes back to the generator: with
 * synchronous calls they run in one go, with no turn of the microtask queue between them
 * (the reaper makes four such calls per expired file).
 */
function* takeSteps(
  calls: FileCalls,
  lock: TakeLock,
  path: string,
  held: string,
  condition: Condition,
  to: string | undefined,
): Generator<unknown, boolean, unknown> {
  const checked = (yield calls.lstat(path)) as Stats | undefined;
  if (checked === undefined || !checked.isFile() || !condition(checked)) return false;
  yield lock.acquire();
  try {
    if (!(yield calls.rename(path, held))) return false;
    const taken = (yield calls.lstat(held)) as Stats | undefined;
    // Removed meanwhile by an unconditional delete.
    if (taken === undefined) return false;
    if (taken.ino === checked.ino && taken.isFile() && condition(taken)) {
      return (yield to === undefined ? calls.unlink(held) : calls.rename(held, to)) as boolean;
    }
    yield calls.link(held, path);
    yield calls.unlink(held);
    return false;
  } finally {
    lock.release();
  }
}

/**
 * Runs steps that yield call results: a synchronous result goes back at once, a promise
 * (the lock while another process holds it, or every call through the thread pool) once
 * settled, its rejection thrown into the steps so that they release what they hold.
 */
async function runTake(steps: Generator<unknown, boolean, unknown>): Promise<boolean> {
  let step = steps.next();
  while (!step.done) {
    const value = step.value;
    if (!(value instanceof Promise)) {
      step = steps.next(value);
      continue;
    }
    let settled: unknown;
    try {
      settled = await value;
    } catch (error) {
      step = steps.throw(error);
      continue;
    }
    step = steps.next(settled);
  }
  return step.value;
}

function isFdPressure(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'EMFILE' || code === 'ENFILE';
}

/** What a file type reads as, in messages. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function foreignEntry(path: string, key: string, what: string): SessionStoreError {
  return new SessionStoreError(
    ErrorCodes.FOREIGN_ENTRY,
    `@sessionfs/adapter-node: ${path.split(key).join(redactKey(key))} is ${what}, not a session file; it is left alone`,
  );
}

/** An open that failed because of what sits at `path` (a link, a socket) is a foreign entry. */
function foreignOr(error: unknown, path: string, key: string): unknown {
  const code = errnoCode(error);
  if (code === 'ELOOP') return foreignEntry(path, key, 'a symbolic link');
  if (code === 'ENXIO') return foreignEntry(path, key, 'a socket or device');
  return error;
}

function assertRegularWithin(
  path: string,
  key: string,
  stats: Stats,
  maxBytes: number | undefined,
): void {
  if (!stats.isFile()) throw foreignEntry(path, key, kindOf(stats));
  if (maxBytes !== undefined && stats.size > maxBytes) {
    throw new SessionStoreError(
      ErrorCodes.TOO_LARGE,
      `@sessionfs/adapter-node: ${path.split(key).join(redactKey(key))} holds ${stats.size} bytes, more than the ${maxBytes} allowed`,
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

/** The expiry a file's mtime holds; "never" past the 2038 sentinel. */
function expiryOf(stats: Stats): number {
  const mtimeMs = Math.round(stats.mtimeMs);
  return mtimeMs < NEVER_EXPIRES_MTIME_MS ? mtimeMs : Number.POSITIVE_INFINITY;
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
