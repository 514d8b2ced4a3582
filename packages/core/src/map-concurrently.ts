/**
 * Applies `operation` to every item of `source` with at most `limit` operations under
 * way, yielding results as they complete. It pulls from `source` only as fast as
 * operations finish, so a listing of millions of keys is never held in memory, and the
 * bound keeps file-descriptor use flat.
 */
export async function* mapConcurrently<T, R>(
  source: AsyncIterable<T>,
  limit: number,
  operation: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const iterator = source[Symbol.asyncIterator]();
  const running = new Map<number, Promise<{ slot: number; result: R }>>();
  let exhausted = false;
  let nextSlot = 0;
  try {
    for (;;) {
      while (!exhausted && running.size < limit) {
        const step = await iterator.next();
        if (step.done) {
          exhausted = true;
          break;
        }
        const slot = nextSlot++;
        running.set(
          slot,
          operation(step.value).then((result) => ({ slot, result })),
        );
      }
      if (running.size === 0) return;
      const { slot, result } = await Promise.race(running.values());
      running.delete(slot);
      yield result;
    }
  } finally {
    if (!exhausted) await iterator.return?.();
    // Let abandoned operations settle so none ends as an unhandled rejection.
    await Promise.allSettled(running.values());
  }
}
