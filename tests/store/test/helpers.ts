import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  type AdapterOperation,
  createFaultyAdapter,
  createMemoryAdapter,
} from '@sessionfs/adapter-memory';
import {
  createNodeAdapter,
  type NodeAdapter,
  type NodeAdapterOptions,
} from '@sessionfs/adapter-node';
import {
  createSessionStore,
  type FsAdapter,
  type SessionStore,
  type SessionStoreOptions,
  type StoreLogger,
} from '@sessionfs/core';
import { afterEach, vi } from 'vitest';

export const HOUR = 60 * 60 * 1000;

/** A clock the test moves by hand, so expiry needs no waiting. */
export function virtualClock(start = Date.UTC(2030, 0, 1)) {
  let time = start;
  return {
    now: () => time,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

/** A session shaped as `@fastify/session` hands it to a store. */
export function fastifySession(now: number, data: Record<string, unknown> = {}, maxAge = HOUR) {
  return {
    cookie: {
      originalMaxAge: maxAge,
      expires: new Date(now + maxAge).toISOString(),
      path: '/',
      httpOnly: true,
    },
    ...data,
  };
}

export function spyLogger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies StoreLogger;
}

type Method = Exclude<AdapterOperation, 'cleanup'>;

/**
 * Wraps an adapter in `createFaultyAdapter` to count calls, track how many run at once,
 * and make a chosen method reject with a given error, as a real medium would.
 */
export function instrument<A extends FsAdapter>(inner: A) {
  const adapter = createFaultyAdapter({ inner });
  return {
    adapter,
    inner,
    calls: adapter.calls,
    get maxRunning() {
      return adapter.maxRunning;
    },
    /** From now on `method` rejects with `error` (in place of any earlier failure). */
    fail(method: Method, error: unknown) {
      adapter.heal();
      adapter.inject({ kind: 'throw', error, operations: [method] });
    },
    heal: () => adapter.heal(),
    reset: () => adapter.resetCounts(),
  };
}

const opened: SessionStore<Record<string, unknown>>[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A store that the test file closes after each test; no reaper unless asked. */
export function openStore(options: SessionStoreOptions) {
  const store = createSessionStore<Record<string, unknown>>({
    reapInterval: false,
    logger: spyLogger(),
    ...options,
  });
  opened.push(store);
  return store;
}

/** A fresh temp directory, removed after the test; the session dir is `<root>/sessions`. */
export async function tempRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'sessionfs-store-'));
  dirs.push(root);
  return root;
}

export async function nodeAdapter(options: Partial<NodeAdapterOptions> = {}): Promise<NodeAdapter> {
  return createNodeAdapter({ dir: join(await tempRoot(), 'sessions'), ...options });
}

/** The adapters every behaviour runs on: memory for speed, node for the disk. */
export const adapters: [string, () => Promise<FsAdapter>][] = [
  ['memory', async () => createMemoryAdapter()],
  ['node', () => nodeAdapter()],
];

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (error: unknown) => error,
  );
}

/** `inner`, declaring `cheapWrites` as the Redis adapter does. */
export function withCheapWrites(inner: FsAdapter): FsAdapter {
  const capabilities = { ...inner.capabilities, cheapWrites: true };
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'capabilities') return capabilities;
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Another Node process with its own store over `dir` (and `encryption`, if given), driven
 * line by line.
 */
export function storeProcess(
  dir: string,
  cacheMode: 'none' | 'shared',
  encryption?: { keys: string[] },
) {
  const fixture = fileURLToPath(new URL('./fixtures/store-process.mjs', import.meta.url));
  const args = [fixture, dir, cacheMode, ...(encryption ? [JSON.stringify(encryption)] : [])];
  const child = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const answers = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async send(command: { op: string; id?: string; session?: unknown }) {
      child.stdin.write(`${JSON.stringify(command)}\n`);
      const answer = await answers.next();
      return JSON.parse(answer.value as string) as { ok: boolean; result: unknown };
    },
    stop() {
      child.stdin.end();
      return new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
