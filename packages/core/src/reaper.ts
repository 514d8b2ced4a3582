import type { FsAdapter } from './adapter.js';
import { ErrorCodes, hasErrorCode, storeFailure } from './errors.js';
import type { StoreLogger } from './logger.js';
import { mapConcurrently } from './map-concurrently.js';
import type { OwnerRules } from './owner-index.js';
import { progressReporter, type RunOptions, untilAborted } from './progress.js';
import { pruneQuarantine } from './quarantine.js';
import type { SessionQuota } from './quota.js';
import { redactKey } from './redaction.js';
import type { SessionRecords } from './session-records.js';
import type { SessionTable } from './session-table.js';
import type { StoredExpiry } from './stored-expiry.js';

/** What one run of the reaper did. */
export interface ReapResult {
  /** Session records looked at. */
  readonly scanned: number;
  /** Expired session records removed. */
  readonly removed: number;
  /** Leftovers of interrupted writes removed (temp files of a process that died mid-write). */
  readonly leftovers: number;
  /** Records set aside long enough ago (or beyond the count kept) that were removed. */
  readonly setAsideRemoved: number;
  /** Whether `signal` (or the store's close) stopped the run before the end. */
  readonly stopped: boolean;
}

/** How far a run of the reaper has come. */
export interface ReapProgress {
  /** Session records looked at. */
  readonly scanned: number;
  /** Expired session records removed. */
  readonly removed: number;
}

/** Options of `store.reap()`. */
export type ReapOptions = RunOptions<ReapProgress>;

/** What the reaper works on. */
export interface ReaperContext {
  readonly adapter: FsAdapter;
  readonly records: SessionRecords;
  readonly expiry: StoredExpiry;
  readonly table: SessionTable;
  readonly quota: SessionQuota | undefined;
  readonly logger: StoreLogger;
  readonly now: () => number;
  readonly concurrency: number;
  readonly quarantine: { readonly maxAge: number; readonly maxRecords: number };
  /** The owner index's rules, whose entries of sessions gone each run sweeps. */
  readonly owners?: Pick<OwnerRules<never>, 'sweep'> | undefined;
}

/** Temp files older than this belong to a write that will never finish. */
export const LEFTOVER_AGE_MS = 60_000;
/** How soon after start the reaper first runs. */
const FIRST_REAP_DELAY_MS = 5_000;

/**
 * Removes expired sessions, what interrupted writes left behind and old records set
 * aside: on a timer, when the quota finds the store full, or when asked. One run at a
 * time; a run never removes a record written or touched while it checks it.
 */
export class Reaper {
  private timer: NodeJS.Timeout | undefined;
  private firstRun: NodeJS.Timeout | undefined;
  private running: Promise<ReapResult> | undefined;
  private stopped = false;

  constructor(private readonly context: ReaperContext) {}

  /** Runs every `interval` ms, and once soon after start. */
  schedule(interval: number): void {
    const runInBackground = () => this.runInBackground();
    // Timers overflow past 2^31 - 1 ms (and would then fire at once): cap the period.
    this.timer = setInterval(runInBackground, Math.min(interval, 2 ** 31 - 1));
    // A first pass soon after start clears what a crashed predecessor left behind.
    this.firstRun = setTimeout(runInBackground, Math.min(interval, FIRST_REAP_DELAY_MS));
    // The reaper must never keep a process alive on its own.
    this.timer.unref();
    this.firstRun.unref();
  }

  /** Runs now, or joins the run under way (whose progress is then not reported). */
  run(options: ReapOptions = {}): Promise<ReapResult> {
    this.running ??= this.reap(options).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Runs now unless stopped, reporting a failure to the logger. */
  runInBackground(): void {
    if (this.stopped) return;
    this.run().catch((error: unknown) => {
      if (!hasErrorCode(error, ErrorCodes.CLOSED)) {
        this.context.logger.error({ err: error }, '@sessionfs/core: background reap failed');
      }
    });
  }

  /** Stops the timers; a run under way ends early. Resolves once it has. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.firstRun) clearTimeout(this.firstRun);
    await this.running?.catch(() => {});
  }

  private async reap(options: ReapOptions): Promise<ReapResult> {
    const { adapter, records, expiry, table, quota, logger, now, concurrency } = this.context;
    const started = now();
    let scanned = 0;
    let removed = 0;
    let failures = 0;
    let leftovers = 0;
    let setAsideRemoved = 0;
    let ownerEntriesRemoved = 0;
    let busy = false;
    try {
      leftovers = (await adapter.cleanup?.(LEFTOVER_AGE_MS)) ?? 0;
    } catch (error) {
      failures += 1;
      logger.warn({ err: error }, '@sessionfs/core: could not clean up after interrupted writes');
    }
    // A backend with native expiry frees space itself: it is listed only to count sessions.
    const nativeExpiry = adapter.capabilities.nativeExpiry;
    const { signal } = options;
    const progress = progressReporter(now, options.onProgress);
    const keys = untilAborted(nativeExpiry && !quota ? noKeys() : records.keys(), signal);
    const outcomes = mapConcurrently(keys, concurrency, async (key) => {
      if (nativeExpiry) return 'kept';
      try {
        if (!(await expiry.removeIfExpired(key, started))) return 'kept';
        table.forgetKey(key);
        return 'removed';
      } catch (error) {
        if (hasErrorCode(error, ErrorCodes.BUSY)) return 'busy';
        if (failures++ === 0) {
          logger.warn(
            { err: error, key: redactKey(key) },
            '@sessionfs/core: reaper could not check a session',
          );
        }
        return 'kept';
      }
    });
    try {
      for await (const outcome of outcomes) {
        if (outcome === 'busy') {
          // Another process is reaping this storage right now: it does the work.
          busy = true;
          break;
        }
        scanned += 1;
        if (outcome === 'removed') removed += 1;
        progress.tick(() => ({ scanned, removed }));
        // Stop early on close rather than keep the adapter busy.
        if (this.stopped) break;
      }
    } catch (error) {
      throw storeFailure(error, 'list');
    }
    progress.end({ scanned, removed });
    const stopped = this.stopped || signal?.aborted === true;
    if (!busy && !stopped) {
      quota?.counted(scanned - removed);
      try {
        setAsideRemoved = await pruneQuarantine(
          adapter,
          started,
          this.context.quarantine.maxAge,
          this.context.quarantine.maxRecords,
          concurrency,
        );
      } catch (error) {
        failures += 1;
        logger.warn({ err: error }, '@sessionfs/core: could not remove old records set aside');
      }
      try {
        ownerEntriesRemoved =
          (await this.context.owners?.sweep(concurrency, () => this.stopped)) ?? 0;
      } catch (error) {
        failures += 1;
        logger.warn({ err: error }, '@sessionfs/core: could not sweep the owner index');
      }
    }
    logger.info?.(
      {
        scanned,
        removed,
        leftovers,
        setAsideRemoved,
        ownerEntriesRemoved,
        failures,
        busy,
        ms: now() - started,
      },
      '@sessionfs/core: reaped expired sessions',
    );
    return { scanned, removed, leftovers, setAsideRemoved, stopped };
  }
}

/** An empty listing. */
async function* noKeys(): AsyncIterable<string> {
  yield* [];
}
