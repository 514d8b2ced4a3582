import { ErrorCodes, SessionStoreError } from '@sessionfs/core/adapter';
import type { DirectoryAccess, WarnFn } from './directory-safety.js';
import { ADAPTER } from './fs-errors.js';
import type { DirectoryLayout } from './layout.js';
import type { NodeFs } from './node-fs.js';

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
   * How a directory this adapter creates spreads its files. `'flat'` (default): all in the
   * directory itself. `'sharded'`: over 16 subdirectories by a hash of the key, so that
   * concurrent writes of different sessions rarely wait for one directory's lock. An
   * existing directory keeps its layout, recorded in its `.sessionfs-layout` file (flat
   * without one); `relayout()` and `sessionfs layout` change it.
   */
  layout?: DirectoryLayout;
  /**
   * Which calls are made synchronously.
   *
   * - `'auto'` (default): read, stat, touch and delete. On a local filesystem the kernel
   *   answers them from its caches sooner than a round trip through libuv's thread pool
   *   would take, so the event loop is held for less time than that round trip would
   *   cost it; the adapter still lets the loop turn after a few such calls. Writes stay
   *   asynchronous: creating and renaming a file can wait on a busy disk.
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

/** Throws `ERR_INVALID_OPTION` unless `options.dir` names a directory. */
export function assertDirOption(options: NodeAdapterOptions): void {
  if (typeof options?.dir !== 'string' || options.dir === '') {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      `${ADAPTER}: option \`dir\` must be a non-empty directory path`,
    );
  }
}

/**
 * The value of the option `name`, one of `choices`, the first being its default;
 * `ERR_INVALID_OPTION` for anything else.
 */
function choiceOf<const C extends readonly string[]>(
  value: string | undefined,
  name: string,
  choices: C,
): C[number] {
  const chosen = value ?? choices[0];
  if (!choices.includes(chosen as string)) {
    const listed = choices.map((choice) => `'${choice}'`);
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      `${ADAPTER}: option \`${name}\` must be ${listed.slice(0, -1).join(', ')} or ${listed.at(-1)}`,
    );
  }
  return chosen as C[number];
}

/** The `access` option or its default; `ERR_INVALID_OPTION` for anything else. */
export function accessOf(options: NodeAdapterOptions): DirectoryAccess {
  return choiceOf(options.access, 'access', ['owner', 'group']);
}

/** The `sync` option or its default; `ERR_INVALID_OPTION` for anything else. */
export function syncOf(options: NodeAdapterOptions): NonNullable<NodeAdapterOptions['sync']> {
  return choiceOf(options.sync, 'sync', ['auto', 'all', 'none']);
}

/** The `layout` option or its default; `ERR_INVALID_OPTION` for anything else. */
export function layoutOf(options: NodeAdapterOptions): DirectoryLayout {
  return choiceOf(options.layout, 'layout', ['flat', 'sharded']);
}
