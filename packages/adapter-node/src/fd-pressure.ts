import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from './fs-errors.js';

/** How long an operation keeps retrying while the process is out of file descriptors. */
const FD_PRESSURE_BUDGET_MS = 10_000;

/** Whether a call failed because the process or the system ran out of descriptors. */
export function isFdPressure(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'EMFILE' || code === 'ENFILE';
}

/**
 * Runs `operation`, retrying with a growing pause while it fails with EMFILE or ENFILE.
 * Running out of descriptors is transient (other handles close), and giving up would turn
 * a busy moment into a lost session or a listing that silently misses entries.
 */
export async function retryOnFdPressure<T>(operation: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + FD_PRESSURE_BUDGET_MS;
  let pause = 1;
  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (!isFdPressure(error) || Date.now() + pause > deadline) throw error;
      await sleep(pause);
      pause = Math.min(pause * 2, 100);
    }
  }
}
