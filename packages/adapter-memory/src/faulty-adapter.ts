import {
  adapterError,
  type ErrorCode,
  ErrorCodes,
  type FsAdapter,
  type OwnerIndex,
} from '@sessionfs/core/adapter';
import { createMemoryAdapter } from './memory-adapter.js';

/** The adapter operations a fault can target. */
export type AdapterOperation =
  | 'read'
  | 'write'
  | 'delete'
  | 'list'
  | 'stat'
  | 'touch'
  | 'move'
  | 'replace'
  | 'cleanup'
  /** The owner index's calls: `owners.add`, `remove`, `keys`, `owners`. */
  | 'index';

/**
 * What goes wrong: a failure as the medium reports it, a delay, or `'throw'`: a rejection
 * with the fault's own `error` (as a third-party adapter might give).
 */
export type FaultKind = 'EIO' | 'ENOSPC' | 'EACCES' | 'EMFILE' | 'delay' | 'throw';

/** One fault to inject. */
export interface Fault {
  /** What goes wrong. */
  kind: FaultKind;
  /** Which operations it hits. Default: all of them. */
  operations?: AdapterOperation[];
  /**
   * When it hits: at the `at`-th matching call counted from when the fault was injected
   * (1 is the next one), or at random with `probability` (0 to 1). Default: every call.
   */
  at?: number;
  probability?: number;
  /** How many times it hits before it clears itself. Default: unlimited. */
  times?: number;
  /** With `kind: 'delay'`, how long each hit waits before the call goes on. Default 100 ms. */
  delayMs?: number;
  /** With `kind: 'throw'`, what each hit rejects with, exactly as given. */
  error?: unknown;
}

/** Options of {@link createFaultyAdapter}. */
export interface FaultyAdapterOptions {
  /** The adapter that does the real work. Default: a new memory adapter. */
  inner?: FsAdapter;
  /** Seed of the random faults, so a failing run can be replayed. Default 1. */
  seed?: number;
}

/** An adapter that fails on demand, and what it has done. */
export interface FaultyAdapter extends FsAdapter {
  /** The adapter doing the real work. */
  readonly inner: FsAdapter;
  /** Adds a fault; several can be active at once. */
  inject(fault: Fault): void;
  /** Removes every fault: the adapter behaves like `inner` again. */
  heal(): void;
  /** How many calls each operation received. */
  readonly calls: Readonly<Record<AdapterOperation, number>>;
  /** How many faults hit so far. */
  readonly hits: number;
  /** The most calls (other than `list`) that were under way at once. */
  readonly maxRunning: number;
  /** Sets `calls` and `maxRunning` back to zero. */
  resetCounts(): void;
}

const CODES: Record<Exclude<FaultKind, 'delay' | 'throw'>, ErrorCode> = {
  EIO: ErrorCodes.IO,
  ENOSPC: ErrorCodes.NO_SPACE,
  EACCES: ErrorCodes.PERMISSION,
  // A real adapter waits out descriptor pressure; one that gave up reports an I/O error.
  EMFILE: ErrorCodes.IO,
};

interface ActiveFault extends Fault {
  seen: number;
  hit: number;
}

/** A small deterministic generator (mulberry32), so random faults replay with a seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * An `FsAdapter` for tests that fails when told to: any operation, with the errors a
 * disk reports (EIO, ENOSPC, EACCES, EMFILE) or a delay, at a chosen call or at random.
 * A failed call does nothing, as a failed atomic write leaves the previous value, and
 * rejects with the `SessionStoreError` a real adapter would give.
 *
 * ```ts
 * const adapter = createFaultyAdapter();
 * const store = createSessionStore({ adapter });
 * adapter.inject({ kind: 'ENOSPC', operations: ['write'], at: 1 });
 * await store.set('id', session); // rejects with ERR_NO_SPACE; the stored session is intact
 * ```
 */
export function createFaultyAdapter(options: FaultyAdapterOptions = {}): FaultyAdapter {
  const inner = options.inner ?? createMemoryAdapter();
  const next = random(options.seed ?? 1);
  let faults: ActiveFault[] = [];
  let hits = 0;
  let running = 0;
  let maxRunning = 0;
  const calls: Record<AdapterOperation, number> = {
    read: 0,
    write: 0,
    delete: 0,
    list: 0,
    stat: 0,
    touch: 0,
    move: 0,
    replace: 0,
    cleanup: 0,
    index: 0,
  };

  /** Applies the faults due for this call: rejects, or waits, or does nothing. */
  async function strike(operation: AdapterOperation): Promise<void> {
    calls[operation] += 1;
    for (const fault of faults) {
      if (fault.operations && !fault.operations.includes(operation)) continue;
      fault.seen += 1;
      const due =
        fault.at !== undefined
          ? fault.seen === fault.at
          : fault.probability !== undefined
            ? next() < fault.probability
            : true;
      if (!due || (fault.times !== undefined && fault.hit >= fault.times)) continue;
      fault.hit += 1;
      hits += 1;
      if (fault.kind === 'delay') {
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 100));
        continue;
      }
      if (fault.kind === 'throw') throw fault.error;
      const cause = Object.assign(new Error(`${fault.kind}: injected fault in ${operation}`), {
        code: fault.kind,
        syscall: operation,
      });
      throw adapterError(cause, {
        adapter: '@sessionfs/adapter-memory',
        action: operation,
        code: CODES[fault.kind],
        detail: ` (injected ${fault.kind})`,
      });
    }
  }

  /** `inner`'s method `operation`, behind the faults; nothing when `inner` lacks it. */
  const guarded = (operation: Exclude<AdapterOperation, 'list' | 'index'>) => {
    const method = inner[operation] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (!method) return {};
    return {
      [operation]: async (...args: unknown[]) => {
        await strike(operation);
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        try {
          return await method.apply(inner, args);
        } finally {
          running -= 1;
        }
      },
    };
  };

  /** `inner`'s owner index behind the faults, as one operation: `index`. */
  const innerIndex = inner.owners;
  const owners: OwnerIndex | undefined = innerIndex && {
    expiring: innerIndex.expiring,
    async add(owner, key, expiresAt) {
      await strike('index');
      return innerIndex.add(owner, key, expiresAt);
    },
    async remove(owner, key) {
      await strike('index');
      return innerIndex.remove(owner, key);
    },
    async *keys(owner) {
      await strike('index');
      yield* innerIndex.keys(owner);
    },
    async *owners() {
      await strike('index');
      yield* innerIndex.owners();
    },
  };

  // The guarded methods keep `inner`'s signatures; the spread hides them from the compiler.
  return {
    ...(owners ? { owners } : {}),
    inner,
    capabilities: inner.capabilities,
    inject(fault: Fault) {
      faults.push({ ...fault, seen: 0, hit: 0 });
    },
    heal() {
      faults = [];
    },
    calls,
    get hits() {
      return hits;
    },
    get maxRunning() {
      return maxRunning;
    },
    resetCounts() {
      for (const operation of Object.keys(calls) as AdapterOperation[]) calls[operation] = 0;
      maxRunning = running;
    },
    ...guarded('read'),
    ...guarded('write'),
    ...guarded('delete'),
    async *list(prefix: string): AsyncIterable<string> {
      await strike('list');
      yield* inner.list(prefix);
    },
    ...guarded('stat'),
    ...guarded('touch'),
    ...guarded('move'),
    ...guarded('replace'),
    ...guarded('cleanup'),
    close: () => inner.close?.() ?? Promise.resolve(),
  } as FaultyAdapter;
}
