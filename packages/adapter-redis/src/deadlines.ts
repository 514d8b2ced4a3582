import { toStoreError } from './errors.js';

/**
 * An operation in flight: when it started, and how to fail the promise `run` returned
 * for it. One object holds both, rather than a closure beside a record: every Redis call
 * makes one, and at thousands a second each allocation shows in the collector's time.
 */
export class InFlight {
  /**
   * `performance.now()` when it started, in whole ms: a small integer, stored without a
   * box of its own (the watch's precision is a quarter of `timeout` anyway).
   */
  readonly startedAt = Math.floor(performance.now());
  /** Set once it was reported failed for taking too long. */
  late = false;
  /** Its neighbours in start order, while in flight. */
  older: InFlight | undefined = undefined;
  newer: InFlight | undefined = undefined;

  constructor(
    private readonly action: string,
    private readonly key: string,
    private readonly reject: (error: unknown) => void,
  ) {}

  /** Rejects with the store's error for `error`. */
  fail(error: unknown): void {
    this.reject(toStoreError(error, this.action, this.key));
  }
}

/**
 * Bounds every operation in time with one timer for all of them, rather than a timer, a
 * second promise and a race per operation, which would cost CPU on every request. The
 * timer runs only while operations are in flight, checks every quarter of `timeout`, and
 * fails those older than `timeout`: each fails between `timeout` and 1.25 × `timeout`.
 *
 * The operations in flight form a list linked through themselves, oldest first (the
 * timeout is the same for all), rather than a `Set`: adding one allocates nothing beyond
 * the operation, which leaves the garbage collector less to keep under load.
 */
export class Deadlines {
  private oldest: InFlight | undefined;
  private newest: InFlight | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeout: number) {}

  /**
   * Watches `operation` from now on. (It holds its start time itself, not a count of
   * checks: a busy event loop runs a late interval once, not once per period missed, and
   * a count would then fail operations late.)
   */
  start(operation: InFlight): InFlight {
    operation.older = this.newest;
    if (this.newest) this.newest.newer = operation;
    else this.oldest = operation;
    this.newest = operation;
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.failLate(), Math.max(1, this.timeout / 4));
      // Nothing to wait for once the operations settle: never keep a process alive.
      this.timer.unref();
    }
    return operation;
  }

  /** Whether `operation` settled in time (it was not failed as late). */
  finish(operation: InFlight): boolean {
    if (!operation.late) this.unlink(operation);
    return !operation.late;
  }

  private unlink(operation: InFlight): void {
    const { older, newer } = operation;
    if (older) older.newer = newer;
    else this.oldest = newer;
    if (newer) newer.older = older;
    else this.newest = older;
    operation.older = undefined;
    operation.newer = undefined;
  }

  private failLate(): void {
    // Whole ms on both sides: more than `timeout` of them is at least `timeout` of time.
    const now = Math.floor(performance.now());
    while (this.oldest !== undefined && now - this.oldest.startedAt > this.timeout) {
      const operation = this.oldest;
      this.unlink(operation);
      operation.late = true;
      operation.fail(new Error(`Redis did not answer within ${this.timeout} ms (timed out)`));
    }
    if (this.oldest === undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
