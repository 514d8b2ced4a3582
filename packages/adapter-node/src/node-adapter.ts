import * as nodeFs from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AdapterCapabilities,
  type AdapterStat,
  assertValidKey,
  type CleanupOptions,
  closedError,
  type DeleteOptions,
  type FsAdapter,
  type MoveOptions,
  type OwnerIndex,
  type ReadOptions,
  type ReplaceOptions,
  redactError,
  type StoredValue,
  type TouchOptions,
  type WriteOptions,
  type WriteResult,
} from '@sessionfs/core/adapter';
import { isFdPressure } from './fd-pressure.js';
import { asynchronousCalls, type FileCalls, synchronousCalls } from './file-calls.js';
import {
  describe,
  expiryOf,
  mtimeSecondsFor,
  NEVER_EXPIRES_MTIME_MS,
  versionOf,
} from './file-metadata.js';
import { ADAPTER, toStoreError } from './fs-errors.js';
import { cleanUp, type ListingContext, listKeys } from './listing.js';
import { LoopBudget } from './loop-budget.js';
import type { NodeFs } from './node-fs.js';
import { accessOf, assertDirOption, layoutOf, type NodeAdapterOptions, syncOf } from './options.js';
import { OwnerDirectories } from './owner-directories.js';
import { readIfPresent, readLater, readNow } from './reads.js';
import { SessionDirectory } from './session-directory.js';
import { TAKE_LOCK_NAME, TakeLock } from './take-lock.js';
import { type Condition, runTake, type TakeAction, takeSteps } from './takes.js';
import { heldNameFor, tempNameFor } from './temp-names.js';
import { TempFileWriter } from './writes.js';

/**
 * How long a touch waits at most for a take of its key (see `takeSteps`) to put the file
 * back. A take is four file calls, but on a loaded machine they queue behind others' in the
 * thread pool, and a touch that gave up would leave the session to expire early.
 */
const TAKE_WAIT_MS = 1_000;

const CAPABILITIES: AdapterCapabilities = Object.freeze({
  nativeExpiry: false,
  // Later expiries read back as "never": the store keeps them in the record.
  expiresUntil: NEVER_EXPIRES_MTIME_MS - 1,
});

/** An `FsAdapter` over a directory of files. */
export interface NodeAdapter extends FsAdapter {
  /** The directory holding one file per key (absolute when the adapter uses node:fs). */
  readonly dir: string;
  /**
   * The file that holds `key`, where it is or would be written: in the directory, or in
   * the shard the key belongs to (see the `layout` option).
   */
  fileOf(key: string): string;
  stat(key: string): Promise<AdapterStat | null>;
  touch(key: string, expiresAt: number, options?: TouchOptions): Promise<boolean>;
  move(from: string, to: string, options?: MoveOptions): Promise<boolean>;
  replace(key: string, data: Uint8Array, options: ReplaceOptions): Promise<WriteResult | null>;
  cleanup(olderThanMs: number, options?: CleanupOptions): Promise<number>;
  close(): Promise<void>;
  /** The owner index, in `.owners/` inside the directory. */
  readonly owners: OwnerIndex;
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
  assertDirOption(options);
  return new DirectoryAdapter(options);
}

class DirectoryAdapter implements NodeAdapter, ListingContext {
  readonly capabilities = CAPABILITIES;
  readonly dir: string;
  readonly directory: SessionDirectory;
  /** Stat, rename, link, unlink and times, as `syncReads` says. */
  readonly calls: FileCalls;
  readonly takeLock: TakeLock;
  private readonly fs: NodeFs;
  private readonly fsync: boolean;
  private readonly writer: TempFileWriter;
  /** Read, stat, touch and delete synchronously. */
  private readonly syncReads: boolean;
  /** Write synchronously too. */
  private readonly syncWrites: boolean;
  /** The take lock's file: while it is absent, no file is held by a take. */
  private readonly takeLockPath: string;
  private readonly loopBudget = new LoopBudget();
  private closed = false;
  readonly owners: OwnerDirectories;

  constructor(options: NodeAdapterOptions) {
    this.fs = options.fs ?? nodeFs;
    this.dir = options.fs ? options.dir : resolve(options.dir);
    this.fsync = options.fsync ?? false;
    const access = accessOf(options);
    const sharedWithGroup = access === 'group';
    const fileMode = options.fileMode ?? (sharedWithGroup ? 0o660 : 0o600);
    const dirMode = options.dirMode ?? (sharedWithGroup ? 0o770 : 0o700);
    const sync = syncOf(options);
    this.syncReads = sync !== 'none';
    this.syncWrites = sync === 'all';
    this.calls = this.syncReads ? synchronousCalls(this.fs) : asynchronousCalls(this.fs);
    this.takeLock = new TakeLock(this.fs, this.dir);
    this.takeLockPath = join(this.dir, TAKE_LOCK_NAME);
    this.directory = new SessionDirectory(
      this.fs,
      this.dir,
      access,
      dirMode,
      fileMode,
      layoutOf(options),
      options.warn,
    );
    this.owners = new OwnerDirectories(this.fs, this.directory, dirMode, this.syncReads, () =>
      this.assertOpen(),
    );
    this.writer = new TempFileWriter(
      this.fs,
      this.directory,
      fileMode,
      sharedWithGroup,
      this.fsync,
    );
  }

  /**
   * Reads the file of `key`. While a take (see `takeSteps`) holds it under its held name
   * for a moment, the file is read there: a session being checked by the reaper of
   * another process is still found. Takes happen only under the take lock, so a read that
   * finds nothing looks under the held name only while the lock exists, then at the key
   * once more: a take that ended since the first look has put the file back.
   */
  async read(key: string, options: ReadOptions = {}): Promise<StoredValue | null> {
    const path = this.pathOf(key);
    const { maxBytes } = options;
    if (this.syncReads) {
      await this.loopBudget.spend();
      try {
        const value = readNow(this.fs, path, key, maxBytes);
        if (value !== undefined) return value;
        if (this.fs.lstatSync(this.takeLockPath, { throwIfNoEntry: false }) !== undefined) {
          const held = readIfPresent(this.fs, this.heldPathOf(key), key, maxBytes);
          if (held !== undefined) return held;
        }
        return readIfPresent(this.fs, path, key, maxBytes) ?? null;
      } catch (error) {
        // Out of descriptors: take the path that waits for one instead of failing.
        if (!isFdPressure(error)) throw toStoreError(error, 'read', path, key);
      }
    }
    try {
      const value = await readLater(this.fs, path, key, maxBytes);
      if (value !== undefined) return value;
      if ((await this.calls.lstat(this.takeLockPath)) !== undefined) {
        const held = await readLater(this.fs, this.heldPathOf(key), key, maxBytes);
        if (held !== undefined) return held;
      }
      return (await readLater(this.fs, path, key, maxBytes)) ?? null;
    } catch (error) {
      throw toStoreError(error, 'read', path, key);
    }
  }

  async write(key: string, data: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
    this.directory.createOnFirstWrite();
    const path = this.pathOf(key);
    const mtime = mtimeSecondsFor(options.expiresAt);
    const temp = this.tempPathOf(key);
    if (this.syncWrites) {
      await this.loopBudget.spend();
      try {
        return this.writer.writeNow(key, temp, path, data, mtime);
      } catch (error) {
        if (!isFdPressure(error)) throw toStoreError(error, 'write', path, key);
      }
    }
    try {
      const written = await this.writer.writeTemp(temp, data, mtime);
      await this.fs.promises.rename(temp, path);
      if (this.fsync) await this.directory.sync(dirname(path));
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
      return this.takeIf(
        key,
        (stats) => {
          if (ifVersion !== undefined && versionOf(stats) !== ifVersion) return false;
          return ifExpiredAt === undefined || expiryOf(stats) <= ifExpiredAt;
        },
        { remove: true },
        'delete',
      );
    }
    if (this.syncReads) await this.loopBudget.spend();
    try {
      const removed = await this.calls.unlink(path);
      // A missing entry seen by lstat is as good as a failed unlink at that moment, and
      // costs no exception.
      const held = this.heldPathOf(key);
      if ((await this.calls.lstat(held)) !== undefined) await this.calls.unlink(held);
      if ((await this.calls.lstat(path)) === undefined) return removed;
      return (await this.calls.unlink(path)) || removed;
    } catch (error) {
      throw toStoreError(error, 'delete', path, key);
    }
  }

  fileOf(key: string): string {
    return this.pathOf(key);
  }

  list(prefix: string): AsyncIterable<string> {
    return listKeys(this, prefix);
  }

  async stat(key: string): Promise<AdapterStat | null> {
    const path = this.pathOf(key);
    try {
      // As `read` looks: under the held name while a take may be under way.
      const stats =
        (await this.calls.lstat(path)) ??
        ((await this.calls.lstat(this.takeLockPath)) === undefined
          ? undefined
          : await this.calls.lstat(this.heldPathOf(key))) ??
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
    if (this.syncReads) await this.loopBudget.spend();
    let waitUntil = Date.now() + TAKE_WAIT_MS;
    let lookedAgain = false;
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
        // Gone, or held by a take for a moment: wait for the take to put it back. Without
        // the take lock no take is under way (any has put its file back by now: one last
        // look at the key), and a held file is a dead taker's leftover.
        const held = this.heldPathOf(key);
        if ((await this.calls.lstat(held)) === undefined) {
          // A take links the file back before it unlinks the held name: with the held
          // name gone, one more look at the key is conclusive.
          if (lookedAgain) return false;
          lookedAgain = true;
          continue;
        }
        if (Date.now() > waitUntil) return false;
        if ((await this.calls.lstat(this.takeLockPath)) === undefined) waitUntil = 0;
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
      return this.takeIf(
        from,
        (stats) => versionOf(stats) === ifVersion,
        { moveTo: target },
        'move',
      );
    }
    try {
      return await this.calls.rename(source, target);
    } catch (error) {
      throw toStoreError(redactError(error, to), 'move', source, from);
    }
  }

  cleanup(olderThanMs: number, options?: CleanupOptions): Promise<number> {
    return cleanUp(this, olderThanMs, options?.dryRun === true);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.takeLock.close();
  }

  assertOpen(): void {
    if (this.closed) throw closedError(ADAPTER);
  }

  /**
   * Writes `data` as the value of `key` only while the file there is still `ifVersion`:
   * a temp file, put in place of that very file by a take (see `takeSteps`). Resolves the
   * new version, or `null` (writing nothing) when the file changed or went meanwhile.
   */
  async replace(
    key: string,
    data: Uint8Array,
    options: ReplaceOptions,
  ): Promise<WriteResult | null> {
    this.directory.createOnFirstWrite();
    const path = this.pathOf(key);
    const temp = this.tempPathOf(key);
    try {
      const written = await this.writer.writeTemp(temp, data, mtimeSecondsFor(options.expiresAt));
      const replaced = await this.takeIf(
        key,
        (stats) => versionOf(stats) === options.ifVersion,
        { replaceWith: temp },
        'write',
      );
      if (replaced && this.fsync) await this.directory.sync(dirname(path));
      return replaced ? written : null;
    } catch (error) {
      throw toStoreError(error, 'write', path, key);
    } finally {
      // Linked in place, or not wanted: the temp name goes either way.
      await this.fs.promises.unlink(temp).catch(() => {});
    }
  }

  /** Acts on the file of `key` if `condition` holds for it, as one step for every other caller (see `takeSteps`). */
  private async takeIf(
    key: string,
    condition: Condition,
    action: TakeAction,
    operation: 'delete' | 'move' | 'write',
  ): Promise<boolean> {
    const path = this.pathOf(key);
    const held = this.heldPathOf(key);
    try {
      if (this.syncReads) await this.loopBudget.spend();
      return await runTake(takeSteps(this.calls, this.takeLock, path, held, condition, action));
    } catch (error) {
      throw toStoreError(error, operation, path, key);
    }
  }

  /** The file of `key`, after checking that the adapter is open and the key is safe. */
  private pathOf(key: string): string {
    this.assertOpen();
    assertValidKey(key);
    if (this.directory.check) this.directory.checkOnce();
    return join(this.directory.directoryOf(key), key);
  }

  /** Where a take holds the file of `key` for a moment: beside it. */
  private heldPathOf(key: string): string {
    return join(this.directory.directoryOf(key), heldNameFor(key));
  }

  /** A new temp file for a write of `key`: beside its file, so that the rename stays in one directory. */
  private tempPathOf(key: string): string {
    return join(this.directory.directoryOf(key), tempNameFor(key));
  }
}
