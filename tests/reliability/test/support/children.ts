import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type DirectoryLayout, relayout } from '@sessionfs/adapter-node';

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

/**
 * The take lock a reaper holds for a moment, files held by a take under way, and the file
 * that says a directory is sharded.
 */
const BOOKKEEPING = /^\.(sessionfs-take\.lock|sessionfs-layout|.*\.held)$/;
/** The subdirectories of a sharded directory. */
const SHARD = /^_[0-9a-f]{1,2}$/;

/**
 * What a session directory holds, by kind of entry: names in it, or `<shard>/<name>` in
 * its shards.
 */
export async function directoryContents(dir: string) {
  const names: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && SHARD.test(entry.name)) {
      for (const name of await readdir(join(dir, entry.name))) names.push(`${entry.name}/${name}`);
    } else {
      names.push(entry.name);
    }
  }
  names.sort();
  const base = (name: string) => name.slice(name.lastIndexOf('/') + 1);
  return {
    sessions: names.filter((name) => base(name).startsWith('s.')),
    temps: names.filter((name) => /^\..*\.tmp$/.test(base(name))),
    others: names.filter((name) => {
      const file = base(name);
      return !file.startsWith('s.') && !/^\..*\.tmp$/.test(file) && !BOOKKEEPING.test(file);
    }),
  };
}

/**
 * Makes `dir` a directory laid out as `layout` (see the node adapter's `layout` option):
 * every process that opens it then follows that layout, whatever its own options.
 */
export async function makeSessionDirectory(dir: string, layout: DirectoryLayout): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await relayout({ dir, layout });
}
