import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The path of a fixture script in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/** A Node child process whose stdout is read line by line; stderr is kept for reports. */
export interface Child {
  readonly process: ChildProcess;
  /** Calls `listener` with every line the child prints. */
  onLine(listener: (line: string) => void): void;
  /** What the child printed on stderr, last few KB. */
  stderr(): string;
  /** Resolves with the exit code or signal once the child exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnNode(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Child {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8_000);
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return {
    process: child,
    onLine: (listener) => lines.on('line', listener),
    stderr: () => stderr,
    exited,
  };
}

/**
 * Waits for `condition`, checking every few ms, for at most `timeoutMs`; false if it never
 * held. Measured on the monotonic clock, so that it also ends while a test fakes `Date`.
 */
export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** The take lock a reaper holds for a moment, and files held by a take under way. */
const BOOKKEEPING = /^\.(sessionfs-take\.lock|.*\.held)$/;

/** What a session directory holds, by kind of entry. */
export async function directoryContents(dir: string) {
  const names = (await readdir(dir)).sort();
  return {
    sessions: names.filter((name) => name.startsWith('s.')),
    temps: names.filter((name) => name.startsWith('.') && name.endsWith('.tmp')),
    others: names.filter(
      (name) => !name.startsWith('s.') && !/^\..*\.tmp$/.test(name) && !BOOKKEEPING.test(name),
    ),
  };
}
