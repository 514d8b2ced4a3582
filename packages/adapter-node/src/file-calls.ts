import type { Stats } from 'node:fs';
import { errnoCode } from './fs-errors.js';
import type { NodeFs } from './node-fs.js';

/**
 * The few path calls the adapter makes outside its read and write paths, in the flavour
 * its `sync` option asks for: synchronous calls return their result, the others a promise
 * of it. A missing entry is `undefined` (or `false`), never an error.
 */
export interface FileCalls {
  /** The entry itself, a link not followed. */
  lstat(path: string): Stats | undefined | Promise<Stats | undefined>;
  /** Whether an entry existed to be renamed. */
  rename(from: string, to: string): boolean | Promise<boolean>;
  /** Whether the link was made: false when `to` exists already or `from` is gone. */
  link(from: string, to: string): boolean | Promise<boolean>;
  /** Whether an entry was there to remove. */
  unlink(path: string): boolean | Promise<boolean>;
  /** Sets the times of the entry itself; whether it was there. */
  lutimes(path: string, atime: number, mtime: number): boolean | Promise<boolean>;
}

function missing(error: unknown): false {
  if (errnoCode(error) === 'ENOENT') return false;
  throw error;
}

function missingOrTaken(error: unknown): false {
  const code = errnoCode(error);
  if (code === 'ENOENT' || code === 'EEXIST') return false;
  throw error;
}

/** Calls that answer from the kernel at once, in this turn of the event loop. */
export function synchronousCalls(fs: NodeFs): FileCalls {
  return {
    // Without an exception for a missing entry: building one costs several times the call.
    lstat: (path) => fs.lstatSync(path, { throwIfNoEntry: false }),
    rename(from, to) {
      try {
        fs.renameSync(from, to);
        return true;
      } catch (error) {
        return missing(error);
      }
    },
    link(from, to) {
      try {
        fs.linkSync(from, to);
        return true;
      } catch (error) {
        return missingOrTaken(error);
      }
    },
    unlink(path) {
      try {
        fs.unlinkSync(path);
        return true;
      } catch (error) {
        return missing(error);
      }
    },
    lutimes(path, atime, mtime) {
      try {
        fs.lutimesSync(path, atime, mtime);
        return true;
      } catch (error) {
        return missing(error);
      }
    },
  };
}

/** Calls through libuv's thread pool, for filesystems where any call may wait (NFS). */
export function asynchronousCalls(fs: NodeFs): FileCalls {
  const { promises } = fs;
  return {
    lstat: (path) =>
      promises.lstat(path).catch((error: unknown) => {
        missing(error);
        return undefined;
      }),
    rename: (from, to) => promises.rename(from, to).then(() => true, missing),
    link: (from, to) => promises.link(from, to).then(() => true, missingOrTaken),
    unlink: (path) => promises.unlink(path).then(() => true, missing),
    lutimes: (path, atime, mtime) => promises.lutimes(path, atime, mtime).then(() => true, missing),
  };
}
