import { type ChildProcess, spawn } from 'node:child_process';
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createSessionStore, type SessionStore, type SessionStoreOptions } from '@sessionfs/core';
import { afterEach } from 'vitest';

/** The built binary, run through its `#!` line as `npx @sessionfs/cli` runs it. */
export const BIN = fileURLToPath(new URL('../dist/bin.mjs', import.meta.url));
export const HOUR = 3_600_000;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

/** Starts `sessionfs args` as a child process, stdin a pipe (closed unless `input`). */
export function spawnCli(args: string[], options: CliOptions = {}): ChildProcess {
  return spawn(BIN, args, {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Collects a child's output until it exits; kills it past `timeoutMs`. */
export function finished(child: ChildProcess, timeoutMs = 60_000): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `sessionfs args` to the end. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const child = spawnCli(args, options);
  const done = finished(child, options.timeoutMs);
  child.stdin?.end(options.input ?? '');
  return done;
}

/**
 * Runs `sessionfs args` in a pseudo-terminal (util-linux `script`), as an operator at a
 * terminal would: what it printed there, escape codes and carriage returns included.
 */
export function runInTerminal(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const command = [BIN, ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...process.env, COLUMNS: '120', LINES: '40', TERM: 'xterm', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const done = finished(child, options.timeoutMs);
  child.stdin?.end();
  return done;
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

const roots: string[] = [];
const stores: SessionStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

/** A fresh session directory path (not created), removed after the test. */
export async function sessionDir(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'sessionfs-cli-'));
  roots.push(root);
  return join(root, 'sessions');
}

/** A store over `dir`, closed after the test, as the app would open it. */
export function appStore(dir: string, options: Partial<SessionStoreOptions> = {}): SessionStore {
  const store = createSessionStore({
    adapter: createNodeAdapter({ dir }),
    reapInterval: false,
    ...options,
  });
  stores.push(store);
  return store;
}

/**
 * Calls `save` for each index below `count`, 100 at a time: a test's thousands of sessions
 * written one by one take seconds the test is not about on a loaded machine.
 */
export async function saveMany(count: number, save: (index: number) => Promise<unknown>) {
  for (let at = 0; at < count; at += 100) {
    const batch = Array.from({ length: Math.min(100, count - at) }, (_, i) => save(at + i));
    await Promise.all(batch);
  }
}

/** A session as @fastify/session saves one, expiring in `maxAge` ms. */
export function cookieSession(data: Record<string, unknown>, maxAge = HOUR) {
  return {
    ...data,
    cookie: {
      originalMaxAge: maxAge,
      expires: new Date(Date.now() + maxAge).toISOString(),
      path: '/',
      httpOnly: true,
    },
  };
}

/**
 * Every file of `dir` with its bytes and times, and those of its subdirectories (the owner
 * index, say): what a read-only command must not change.
 */
export async function snapshot(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).sort();
  const entries = await Promise.all(
    names.map(async (name): Promise<string[]> => {
      const path = join(dir, name);
      const stats = await lstat(path);
      if (stats.isDirectory()) {
        return [`${name}/ ${stats.mode}`, ...(await snapshot(path)).map((row) => `${name}/${row}`)];
      }
      const content = stats.isSymbolicLink()
        ? `-> ${await readlink(path)}`
        : (await readFile(path)).toString('base64');
      return [`${name} ${stats.mtimeMs} ${stats.mode} ${content}`];
    }),
  );
  return entries.flat();
}

/** The lines of an output, without the empty last one. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}
