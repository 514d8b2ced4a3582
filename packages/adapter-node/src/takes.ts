import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, SessionStoreError } from '@sessionfs/core/adapter';
import type { FileCalls } from './file-calls.js';
import { expiryOf } from './file-metadata.js';
import type { TakeLock } from './take-lock.js';

/** A condition a take checks, twice: before it moves the file away, and after. */
export type Condition = (stats: Stats) => boolean;

/**
 * What a take does with the file it took, once the condition held: remove it, move it to
 * another path, or put the file at `replaceWith` (a finished temp file) in its place.
 */
export type TakeAction =
  | { readonly remove: true }
  | { readonly moveTo: string }
  | { readonly replaceWith: string };

/**
 * The steps that remove, move or replace (see {@link TakeAction}) the file at `path` if
 * `condition` holds for it, as one step for every other caller, in this process or another:
 *
 * 1. The file is checked where it is: most files the reaper looks at are live.
 * 2. Under the take lock (one taker per directory at a time), it is renamed to its held
 *    name: that takes exactly one file, whatever is written to the key meanwhile.
 * 3. The held file is checked again: if it is the file checked in 1 (same inode) and the
 *    condition still holds, it goes. Otherwise a write or touch landed in between, and
 *    the file is linked back (unless a newer one is at the key already).
 *
 * No write is ever removed: a write lands on the key, never on the held name. While a
 * file is held, readers, `stat` and `touch` look for it under the held name, and an
 * unconditional `delete` removes it there too, so that it is neither missed nor brought
 * back.
 *
 * Each step yields a call whose result comes back to the generator (see {@link runTake}):
 * with synchronous calls they run in one go, with no turn of the microtask queue between
 * them, which matters to the reaper, which makes four such calls per expired file.
 */
export function* takeSteps(
  calls: FileCalls,
  lock: TakeLock,
  path: string,
  held: string,
  condition: Condition,
  action: TakeAction,
): Generator<unknown, boolean, unknown> {
  const checked = (yield calls.lstat(path)) as Stats | undefined;
  if (checked === undefined || !checked.isFile() || !condition(checked)) return false;
  yield lock.acquire();
  try {
    if (!(yield calls.rename(path, held))) return false;
    const taken = (yield calls.lstat(held)) as Stats | undefined;
    // Removed meanwhile by an unconditional delete.
    if (taken === undefined) return false;
    if (taken.ino === checked.ino && taken.isFile() && condition(taken)) {
      if ('moveTo' in action) return (yield calls.rename(held, action.moveTo)) as boolean;
      if ('remove' in action) return (yield calls.unlink(held)) as boolean;
      // A link, not a rename: it fails if a write landed on the key since the file was
      // taken, and that newer write stays. The taken file goes either way.
      const replaced = (yield calls.link(action.replaceWith, path)) as boolean;
      yield calls.unlink(held);
      return replaced;
    }
    yield calls.link(held, path);
    yield calls.unlink(held);
    return false;
  } finally {
    lock.release();
  }
}

/**
 * Runs steps that yield call results: a synchronous result goes back at once, a promise
 * (the lock while another process holds it, or every call through the thread pool) once
 * settled, its rejection thrown into the steps so that they release what they hold.
 */
export async function runTake(steps: Generator<unknown, boolean, unknown>): Promise<boolean> {
  let step = steps.next();
  while (!step.done) {
    const value = step.value;
    if (!(value instanceof Promise)) {
      step = steps.next(value);
      continue;
    }
    let settled: unknown;
    try {
      settled = await value;
    } catch (error) {
      step = steps.throw(error);
      continue;
    }
    step = steps.next(settled);
  }
  return step.value;
}

/**
 * Settles a held file left by a taker that died between its steps: the live file it held
 * goes back to its key unless a newer one is there; an expired one goes. Resolves whether
 * the held file was removed; `false` while another process holds the take lock.
 */
export async function settleHeld(
  calls: FileCalls,
  lock: TakeLock,
  dir: string,
  key: string,
  heldPath: string,
): Promise<boolean> {
  try {
    await lock.acquire();
  } catch (error) {
    if (SessionStoreError.isInstance(error) && error.code === ErrorCodes.BUSY) return false;
    throw error;
  }
  try {
    const stats = await calls.lstat(heldPath);
    if (stats?.isFile() && expiryOf(stats) > Date.now()) {
      await calls.link(heldPath, join(dir, key));
    }
    return await calls.unlink(heldPath);
  } finally {
    lock.release();
  }
}
