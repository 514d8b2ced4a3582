import type { Dir, Stats } from 'node:fs';
import * as nodeFs from 'node:fs';
import { assertSafeDirectory, type DirectoryAccess, type WarnFn } from './directory-safety.js';
import { retryOnFdPressure } from './fd-pressure.js';
import { errnoCode, toStoreError } from './fs-errors.js';
import type { NodeFs } from './node-fs.js';

/** The directory that holds the session files: checked once, created on demand. */
export class SessionDirectory {
  /**
   * Checks the directory's owner and mode, where other users can reach it; cleared once
   * the directory was found safe. Until then every call checks it again: it may be created
   * later, by this adapter or by someone else.
   */
  check: ((stats: Stats) => void) | undefined;
  /** The directory gets its mode set explicitly: a umask would take group write. */
  private readonly sharedWithGroup: boolean;

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
   * Creates the directory with the adapter's mode. `recursive` leaves an existing one
   * alone, so whatever is there now (another process, or another user, may have made it
   * since the adapter started) is checked again.
   */
  create(): void {
    const created = this.fs.mkdirSync(this.path, { recursive: true, mode: this.mode });
    if (created !== undefined && this.sharedWithGroup) this.fs.chmodSync(this.path, this.mode);
    this.checkOnce();
  }

  /** Flushes the directory's entries (a rename) to stable storage. */
  syncNow(): void {
    const directory = this.fs.openSync(this.path, 'r');
    try {
      this.fs.fsyncSync(directory);
    } finally {
      this.fs.closeSync(directory);
    }
  }

  /** {@link syncNow} through the thread pool. */
  async sync(): Promise<void> {
    const handle = await this.fs.promises.open(this.path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /**
   * Opens the directory to stream its entries; `undefined` while it does not exist.
   * `action` names what failed in an error.
   */
  async open(action: string): Promise<Dir | undefined> {
    try {
      return await retryOnFdPressure(() =>
        this.fs.promises.opendir(this.path, { bufferSize: 256 }),
      );
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw toStoreError(error, action, this.path);
    }
  }
}
