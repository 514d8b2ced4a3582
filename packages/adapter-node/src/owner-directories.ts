import type { Dir } from 'node:fs';
import { join } from 'node:path';
import {
  assertValidKey,
  ErrorCodes,
  isValidKey,
  type OwnerIndex,
  SessionStoreError,
} from '@sessionfs/core/adapter';
import { retryOnFdPressure } from './fd-pressure.js';
import { ADAPTER, errnoCode, toStoreError } from './fs-errors.js';
import type { NodeFs } from './node-fs.js';
import type { SessionDirectory } from './session-directory.js';

/** The directory, inside the session directory, that holds the owner index. */
export const OWNERS_DIR = '.owners';

/**
 * What an entry's link points to: nothing. Only the entry's name counts; the link is
 * never followed, and costs an inode without a data block.
 */
const ENTRY_TARGET = 'sessionfs-owner-entry';

/** How often `add` makes the owner's directory again when a removal took it meanwhile. */
const ADD_ATTEMPTS = 3;

/**
 * The owner index on files: `.owners/<owner>/<key>`, one directory per owner (a digest
 * the store makes) holding one entry per session, named by its key. An entry is a
 * symbolic link, looked up before it is made: recording a session already recorded (every
 * save after its first) costs one `lstat`; a new one, a `symlink` more; removing one, an
 * `unlink`. Nothing in it is ever opened or followed, and a listing yields only names that
 * are keys.
 */
export class OwnerDirectories implements OwnerIndex {
  readonly expiring = false;
  private rootChecked = false;

  constructor(
    private readonly fs: NodeFs,
    private readonly directory: SessionDirectory,
    private readonly dirMode: number,
    /** Make and remove entries synchronously (the adapter's `sync` allows it). */
    private readonly synchronous: boolean,
    private readonly assertOpen: () => void,
  ) {}

  private get root(): string {
    return join(this.directory.path, OWNERS_DIR);
  }

  async add(owner: string, key: string): Promise<void> {
    const { ownerDir, entry } = this.pathsOf(owner, key);
    // Recorded already, in the common case (every save after the first): one lstat,
    // which says so without the exception a symlink over an existing entry would cost.
    if (this.synchronous ? this.existsNow(entry) : await this.exists(entry)) return;
    for (let attempt = 1; ; attempt += 1) {
      try {
        if (this.synchronous) this.fs.symlinkSync(ENTRY_TARGET, entry);
        else await this.fs.promises.symlink(ENTRY_TARGET, entry);
        return;
      } catch (error) {
        const code = errnoCode(error);
        if (code === 'EEXIST') return;
        if (code !== 'ENOENT' || attempt === ADD_ATTEMPTS) {
          throw toStoreError(error, 'record the owner of', entry, key);
        }
      }
      this.makeDirectory(ownerDir);
    }
  }

  async remove(owner: string, key: string): Promise<void> {
    const { entry } = this.pathsOf(owner, key);
    try {
      await this.fs.promises.unlink(entry);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT')
        throw toStoreError(error, 'remove the owner entry', entry, key);
    }
    // The owner's directory stays, even empty: removed here, it would vanish under adds of
    // other processes between their mkdir and their link, as often as entries are removed,
    // and an add that lost that race every time failed its save. `owners()` removes empty
    // ones.
  }

  async *keys(owner: string): AsyncIterable<string> {
    this.assertOpen();
    assertValidKey(owner);
    this.checkRoot();
    for await (const name of this.names(join(this.root, owner))) {
      if (isValidKey(name.name) && name.isSymbolicLink()) yield name.name;
    }
  }

  /**
   * Every owner with entries. An owner's directory left empty is removed instead (the
   * reaper's sweep lists owners once a round, so an add rarely meets a removal, and retries
   * when it does).
   */
  async *owners(): AsyncIterable<string> {
    this.assertOpen();
    this.checkRoot();
    for await (const name of this.names(this.root)) {
      if (!isValidKey(name.name) || !name.isDirectory()) continue;
      const removed = await this.fs.promises.rmdir(join(this.root, name.name)).then(
        () => true,
        () => false,
      );
      if (!removed) yield name.name;
    }
  }

  /** The owner's directory and the entry of `key` in it, once both names are checked. */
  private pathsOf(owner: string, key: string): { ownerDir: string; entry: string } {
    this.assertOpen();
    assertValidKey(owner);
    assertValidKey(key);
    this.checkRoot();
    const ownerDir = join(this.root, owner);
    return { ownerDir, entry: join(ownerDir, key) };
  }

  /** Whether an entry is at `entry`, looked up on the event loop. */
  private existsNow(entry: string): boolean {
    try {
      return this.fs.lstatSync(entry, { throwIfNoEntry: false }) !== undefined;
    } catch (error) {
      if (errnoCode(error) === 'ENOTDIR') return false;
      throw toStoreError(error, 'look up the owner entry', entry);
    }
  }

  /** Whether an entry is at `entry`, through the thread pool. */
  private async exists(entry: string): Promise<boolean> {
    try {
      await this.fs.promises.lstat(entry);
      return true;
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw toStoreError(error, 'look up the owner entry', entry);
    }
  }

  /** The entries of `dir`, streamed; none while it does not exist. */
  private async *names(dir: string) {
    let handle: Dir;
    try {
      handle = await retryOnFdPressure(() => this.fs.promises.opendir(dir, { bufferSize: 256 }));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return;
      throw toStoreError(error, 'list the owner index', dir);
    }
    try {
      for (;;) {
        const entry = await handle.read().catch((error: unknown) => {
          throw toStoreError(error, 'list the owner index', dir);
        });
        if (entry === null) return;
        yield entry;
      }
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /**
   * Makes the owner's directory, and the index's, with the adapter's mode. The session
   * directory is created first: it gets its layout before anything else is put in it.
   */
  private makeDirectory(ownerDir: string): void {
    this.directory.createOnFirstWrite();
    for (const dir of [this.root, ownerDir]) {
      try {
        this.fs.mkdirSync(dir, { mode: this.dirMode });
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw toStoreError(error, 'create', dir);
      }
    }
    this.rootChecked = false;
    this.checkRoot();
  }

  /**
   * The index must be a directory of its own: a link there would take entries, and the
   * directories made for them, wherever it points. Checked until found to be one.
   */
  private checkRoot(): void {
    if (this.rootChecked) return;
    const stats = this.fs.lstatSync(this.root, { throwIfNoEntry: false });
    if (stats === undefined) return;
    if (!stats.isDirectory()) {
      throw new SessionStoreError(
        ErrorCodes.FOREIGN_ENTRY,
        `${ADAPTER}: ${this.root} is not a directory, so the owner index cannot be kept there; it is left alone (move it away)`,
      );
    }
    this.rootChecked = true;
  }
}
