/**
 * Synchronous calls allowed in one turn of the event loop: enough that a burst of reads
 * rarely waits, few enough that timers and I/O are not held up noticeably.
 */
const SYNC_CALLS_PER_TURN = 32;

/**
 * A synchronous call settles its promise without the event loop turning, so a caller
 * that loops over them (a listing, a busy reader) would starve timers and I/O. The budget
 * counts such calls and, after a few in one turn, makes the next caller wait for the next
 * turn.
 */
export class LoopBudget {
  /** Synchronous calls made since the event loop last turned. */
  private callsThisTurn = 0;
  private turnEndScheduled = false;

  /**
   * Counts one synchronous call about to be made. Returns nothing (no promise, no extra
   * microtask) while the budget lasts, else a promise of the next turn.
   */
  spend(): Promise<void> | undefined {
    if (this.callsThisTurn >= SYNC_CALLS_PER_TURN) {
      // Whoever waited goes next, whatever the budget: no caller starves another.
      return new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.countCall());
    }
    this.countCall();
    return undefined;
  }

  private countCall(): void {
    if (!this.turnEndScheduled) {
      this.turnEndScheduled = true;
      setImmediate(() => {
        this.callsThisTurn = 0;
        this.turnEndScheduled = false;
      });
    }
    this.callsThisTurn += 1;
  }
}
