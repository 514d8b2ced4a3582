import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, PROCESS_TOKEN_HEX, SessionStoreError } from '@sessionfs/core/adapter';
import { ADAPTER, errnoCode } from './fs-errors.js';
import type { NodeFs } from './node-fs.js';

/** The lock file's name: a dot-name, so never a key, never listed. */
export const TAKE_LOCK_NAME = '.sessionfs-take.lock';
/**
 * Where a stale lock is moved before it is removed: the lock's name, the breaking
 * process's token (see `breakIfStale`), `.stale`. `cleanup` removes leftovers.
 */
export const STALE_LOCK_NAME = /^\.sessionfs-take\.lock\.[0-9a-f]{16}\.stale$/;
/** How long an acquirer waits for another process's lock before giving up (`ERR_BUSY`). */
const WAIT_MS = 100;
/** A lock untouched this long belongs to a process that died or froze. */
const STALE_MS = 30_000;
/** A holder touches its lock this often, so that a long reap is not taken for a dead one. */
const REFRESH_MS = 10_000;
/**
 * How long the lock is kept after the last take, for the next one: a reaper's takes come
 * in bursts (one per listed file) with pauses between them for the listing and for the
 * event loop, and creating the lock file anew for each burst would add a file creation
 * and removal to every few takes. Short enough for other processes' reapers, which wait
 * up to `WAIT_MS`.
 */
const LINGER_MS = 20;
const HOST = hostname();

/**
 * The lock that takers of one directory share across processes. A taker is whoever moves
 * a session file away to remove or set aside exactly what it checked (the reaper, a read
 * that found an expired or corrupt record); two takers working on one key at once could
 * remove each other's files. Writers, readers and touches never take it.
 *
 * It is a file created with `O_EXCL` that holds its owner (pid, host, token). It is held
 * while takes follow each other, and released once none came for a few milliseconds, so
 * that the reaper of another process can take its turn.
 * A lock whose owner died (same host, no such pid) or that nobody touched for 30 s is
 * broken by the next acquirer.
 */
export class TakeLock {
  private readonly path: string;
  private holders = 0;
  private held = false;
  private refreshedAt = 0;
  private acquiring: Promise<void> | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly fs: NodeFs,
    dir: string,
  ) {
    this.path = join(dir, TAKE_LOCK_NAME);
  }

  /**
   * Holds the lock until {@link release}: at once (resolving nothing, no promise) while
   * this process holds it already, else once created, after a wait of at most a moment.
   */
  acquire(): Promise<void> | undefined {
    this.holders += 1;
    if (this.held && Date.now() - this.refreshedAt > REFRESH_MS) this.refresh();
    if (this.held) return undefined;
    this.acquiring ??= this.lock().finally(() => {
      this.acquiring = undefined;
    });
    return this.acquiring.catch((error: unknown) => {
      this.holders -= 1;
      throw error;
    });
  }

  /** Gives up one hold; the file goes once no take came for {@link LINGER_MS}. */
  release(): void {
    this.holders -= 1;
    if (this.holders > 0) return;
    if (this.releaseTimer) this.releaseTimer.refresh();
    else {
      this.releaseTimer = setTimeout(() => {
        this.releaseTimer = undefined;
        if (this.holders === 0) this.unlock();
      }, LINGER_MS);
      // A held lock never keeps the process alive: one left by an exit is broken as stale.
      this.releaseTimer.unref();
    }
  }

  /** Lets go at once, whoever holds it in this process (the adapter is closing). */
  close(): void {
    this.holders = 0;
    clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
    this.unlock();
  }

  private async lock(): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      try {
        const fd = this.fs.openSync(this.path, 'wx', 0o600);
        try {
          this.fs.writeSync(fd, `${process.pid} ${HOST} ${PROCESS_TOKEN_HEX}\n`);
        } finally {
          this.fs.closeSync(fd);
        }
        this.held = true;
        this.refreshedAt = Date.now();
        return;
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw error;
      }
      if (this.breakIfStale()) continue;
      if (Date.now() > deadline) {
        throw new SessionStoreError(
          ErrorCodes.BUSY,
          `${ADAPTER}: another process is reaping this directory`,
        );
      }
      await sleep(5);
    }
  }

  private refresh(): void {
    this.refreshedAt = Date.now();
    try {
      const now = Date.now() / 1000;
      this.fs.utimesSync(this.path, now, now);
    } catch {
      // Gone: the next acquire creates it again.
      this.held = false;
    }
  }

  private unlock(): void {
    if (!this.held) return;
    this.held = false;
    try {
      this.fs.unlinkSync(this.path);
    } catch {
      // Broken as stale by another process meanwhile: nothing left to remove.
    }
  }

  /**
   * Removes the lock file if its owner is gone, and says whether it did. It is moved to
   * a name of this process's own first and removed only if it is still the file judged
   * stale: a fresh lock created meanwhile by a live process is put back.
   */
  private breakIfStale(): boolean {
    let stale: ReturnType<NodeFs['lstatSync']>;
    let owner: string;
    try {
      stale = this.fs.lstatSync(this.path);
      owner = String(this.fs.readFileSync(this.path, 'utf8'));
    } catch {
      // Released meanwhile: try again at once.
      return true;
    }
    if (!isAbandoned(owner, stale.mtimeMs)) return false;
    const aside = `${this.path}.${PROCESS_TOKEN_HEX}.stale`;
    try {
      this.fs.renameSync(this.path, aside);
    } catch {
      return true;
    }
    const moved = this.fs.lstatSync(aside);
    if (moved.ino !== stale.ino) {
      try {
        this.fs.linkSync(aside, this.path);
      } catch {
        // Someone holds a newer lock already.
      }
    }
    this.fs.unlinkSync(aside);
    return true;
  }
}

/** Whether the owner recorded in a lock (`pid host token`) can no longer be holding it. */
function isAbandoned(owner: string, mtimeMs: number): boolean {
  if (Date.now() - mtimeMs > STALE_MS) return true;
  const [pid, host] = owner.trim().split(' ');
  if (host !== HOST || !pid || !/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    // EPERM: alive, under another user.
    return errnoCode(error) === 'ESRCH';
  }
}
