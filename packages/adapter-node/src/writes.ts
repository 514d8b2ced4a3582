import { dirname } from 'node:path';
import type { WriteResult } from '@sessionfs/core/adapter';
import { retryOnFdPressure } from './fd-pressure.js';
import { versionOf } from './file-metadata.js';
import { errnoCode, toStoreError } from './fs-errors.js';
import type { NodeFs } from './node-fs.js';
import type { SessionDirectory } from './session-directory.js';

/**
 * Writes a value to a temp file in the session directory (see `tempNameFor`), with its
 * expiry as the mtime, ready to be renamed over the key: a reader sees the old file or
 * the new one, never part of either.
 */
export class TempFileWriter {
  constructor(
    private readonly fs: NodeFs,
    private readonly directory: SessionDirectory,
    private readonly fileMode: number,
    /** Files get their mode set explicitly: a umask would take group write. */
    private readonly sharedWithGroup: boolean,
    private readonly fsync: boolean,
  ) {}

  /** The synchronous write: temp file, expiry, rename; the temp file removed on failure. */
  writeNow(key: string, temp: string, path: string, data: Uint8Array, mtime: number): WriteResult {
    let fd: number;
    try {
      fd = this.fs.openSync(temp, 'wx', this.fileMode);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      this.directory.create(dirname(temp));
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
      if (this.fsync) this.directory.syncNow(dirname(path));
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
   * Writes the temp file through the thread pool, creating the directory if it turns out
   * to be missing, and resolves the version of what it holds: the rename keeps the inode,
   * birth time and size, so this is the version the key has once renamed. The caller
   * renames it, and removes it on failure.
   */
  writeTemp(temp: string, data: Uint8Array, mtime: number): Promise<WriteResult> {
    return this.withDirectory(dirname(temp), () => this.createTemp(temp, data, mtime));
  }

  private async createTemp(temp: string, data: Uint8Array, mtime: number): Promise<WriteResult> {
    const handle = await retryOnFdPressure(() => this.fs.promises.open(temp, 'wx', this.fileMode));
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

  /** Runs `operation`, creating `directory` first if it turns out to be missing. */
  private async withDirectory<T>(directory: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      this.directory.create(directory);
      return await operation();
    }
  }
}
