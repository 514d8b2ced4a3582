import type * as nodeFs from 'node:fs';

/** The part of `node:fs/promises` the adapter uses. */
export type NodeFsPromises = Pick<
  typeof nodeFs.promises,
  | 'mkdir'
  | 'open'
  | 'opendir'
  | 'rename'
  | 'stat'
  | 'lstat'
  | 'link'
  | 'unlink'
  | 'utimes'
  | 'lutimes'
  | 'symlink'
  | 'rmdir'
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
  | 'readFileSync'
  | 'writeSync'
  | 'futimesSync'
  | 'fchmodSync'
  | 'chmodSync'
  | 'fsyncSync'
  | 'closeSync'
  | 'renameSync'
  | 'linkSync'
  | 'unlinkSync'
  | 'mkdirSync'
  | 'rmSync'
  | 'rmdirSync'
  | 'readdirSync'
  | 'writeFileSync'
  | 'statSync'
  | 'lstatSync'
  | 'utimesSync'
  | 'lutimesSync'
  | 'symlinkSync'
> & { promises: NodeFsPromises };
