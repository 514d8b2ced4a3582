import type { Stats } from 'node:fs';
import { ErrorCodes, SessionStoreError } from '@sessionfs/core/adapter';
import { ADAPTER } from './fs-errors.js';

/** Who may use the session directory besides the process's own user. */
export type DirectoryAccess = 'owner' | 'group';

/** Where the one warning about a directory others can read goes. */
export type WarnFn = (message: string) => void;

const warnedDirectories = new Set<string>();

/**
 * Refuses a session directory that other local users could use to forge or replace
 * sessions, and warns once per directory and process when they can list it (every file
 * name is an encoded session id).
 *
 * - `'owner'` (default): the directory must belong to the process's user, and neither
 *   its group nor others may write it.
 * - `'group'`: several users' processes share it on purpose; it may belong to any member
 *   of one of the process's groups and be group-writable, but never writable by others.
 *
 * `stats` is the directory as `stat` (not `lstat`) sees it: a symbolic link to the
 * directory is fine, what matters is the directory itself. Platforms without user ids
 * (Windows) are not checked.
 */
export function assertSafeDirectory(
  dir: string,
  stats: Stats,
  access: DirectoryAccess,
  warn: WarnFn,
): void {
  if (!stats.isDirectory()) {
    throw new SessionStoreError(
      ErrorCodes.UNSAFE_DIRECTORY,
      `${ADAPTER}: ${dir} is not a directory`,
    );
  }
  const uid = process.getuid?.();
  if (uid === undefined) return;
  const mode = stats.mode & 0o7777;
  const shown = `mode ${mode.toString(8).padStart(4, '0')}, owner uid ${stats.uid}, group gid ${stats.gid}`;
  const sharedGroup = access === 'group' && (process.getgroups?.() ?? []).includes(stats.gid);
  if (stats.uid !== uid && !sharedGroup) {
    throw new SessionStoreError(
      ErrorCodes.UNSAFE_DIRECTORY,
      `${ADAPTER}: refusing the session directory ${dir} (${shown}): it belongs to another user, who could replace or forge sessions. Use a directory of your own (uid ${uid}), or run \`chown ${uid} ${quote(dir)}\` as root`,
    );
  }
  if (mode & 0o002) {
    throw new SessionStoreError(
      ErrorCodes.UNSAFE_DIRECTORY,
      `${ADAPTER}: refusing the session directory ${dir} (${shown}): every local user can write it, and so replace or forge sessions. Run \`chmod ${access === 'group' ? '770' : '700'} ${quote(dir)}\``,
    );
  }
  if (mode & 0o020 && access !== 'group') {
    throw new SessionStoreError(
      ErrorCodes.UNSAFE_DIRECTORY,
      `${ADAPTER}: refusing the session directory ${dir} (${shown}): its group can write it, and so replace or forge sessions. Run \`chmod 700 ${quote(dir)}\`, or pass \`access: 'group'\` if the group shares it on purpose`,
    );
  }
  const readable = access === 'group' ? mode & 0o004 : mode & 0o044;
  if (readable && !warnedDirectories.has(dir)) {
    warnedDirectories.add(dir);
    warn(
      `${ADAPTER}: the session directory ${dir} (${shown}) can be listed by ${access === 'group' ? 'every local user' : 'other local users'}, and its file names are the session ids. Run \`chmod ${access === 'group' ? '770' : '700'} ${quote(dir)}\``,
    );
  }
}

function quote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}
