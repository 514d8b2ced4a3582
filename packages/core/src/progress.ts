/** How often a long run reports its progress. */
const PROGRESS_EVERY_MS = 1_000;

/** What a long run over every record (reap, rekey) is given by its caller. */
export interface RunOptions<P> {
  /** Called about once a second while the run goes on, and once at the end. */
  onProgress?: (progress: P) => void;
  /** Stops the run: records under way finish, the result says how far it came. */
  signal?: AbortSignal;
}

/** Calls `onProgress` at most once a second with what `progress()` says then. */
export function progressReporter<P>(
  now: () => number,
  onProgress: ((progress: P) => void) | undefined,
): { tick(progress: () => P): void; end(progress: P): void } {
  let reportedAt = now();
  return {
    tick(progress) {
      if (onProgress === undefined || now() - reportedAt < PROGRESS_EVERY_MS) return;
      reportedAt = now();
      onProgress(progress());
    },
    end(progress) {
      onProgress?.(progress);
    },
  };
}

/** `source` until `signal` aborts: no item is pulled after that. */
export async function* untilAborted<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal | undefined,
): AsyncIterable<T> {
  for await (const item of source) {
    if (signal?.aborted) return;
    yield item;
  }
}
