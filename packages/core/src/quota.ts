import { ErrorCodes, SessionStoreError } from './errors.js';

/** A count older than this is taken again before a new session is let in. */
const RECOUNT_MS = 60_000;
/** A full store is confirmed by a count at most this old before a session is refused. */
const CONFIRM_MS = 5_000;

/**
 * The bound on how many sessions a store holds (`maxSessions`), which refuses new sessions
 * only: a session already stored is always saved again.
 *
 * Counting a directory means listing it, so the count is taken when the store first needs
 * it, again once it is a minute old, by every reaper run, and again (at most every 5 s)
 * before a session is refused; in between, this process's own new and removed sessions
 * move it. Other processes' new sessions are seen at the next count: over one directory,
 * N processes can exceed the bound by what the others created within that minute.
 */
export class SessionQuota {
  private estimate: number | undefined;
  private countedAt = Number.NEGATIVE_INFINITY;
  private counting: Promise<void> | undefined;

  constructor(
    readonly maxSessions: number,
    private readonly countSessions: () => Promise<number>,
    private readonly now: () => number,
    /** Called when the store is found full: a reap may make room. */
    private readonly onFull: () => void,
  ) {}

  /** Resolves when one more session fits; rejects with `ERR_QUOTA_EXCEEDED` otherwise. */
  async admit(): Promise<void> {
    if (this.estimate === undefined || this.now() - this.countedAt >= RECOUNT_MS) {
      await this.recount();
    }
    if ((this.estimate ?? 0) >= this.maxSessions && this.now() - this.countedAt > CONFIRM_MS) {
      await this.recount();
    }
    if ((this.estimate ?? 0) >= this.maxSessions) {
      this.onFull();
      throw new SessionStoreError(
        ErrorCodes.QUOTA_EXCEEDED,
        `@sessionfs/core: the store holds ${this.estimate} sessions, its maxSessions is ${this.maxSessions}: no new session is stored`,
      );
    }
  }

  /** A new session was stored. */
  added(): void {
    if (this.estimate !== undefined) this.estimate += 1;
  }

  /** A session was removed. */
  removed(): void {
    if (this.estimate !== undefined && this.estimate > 0) this.estimate -= 1;
  }

  /** A full listing counted `sessions` (the reaper's). */
  counted(sessions: number): void {
    this.estimate = sessions;
    this.countedAt = this.now();
  }

  private recount(): Promise<void> {
    this.counting ??= this.countSessions()
      .then((sessions) => this.counted(sessions))
      .finally(() => {
        this.counting = undefined;
      });
    return this.counting;
  }
}
