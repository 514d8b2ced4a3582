// Model-based property tests: random sequences of store operations, with a virtual clock
// for expiry, on every adapter and cache mode, compared step by step with the plain model
// of test/support/model.ts. fast-check shrinks a failing sequence to a minimal one.
// To replay a failure, pass the seed and path fast-check printed, and pick the test:
//   FC_SEED=1037401585 FC_PATH='1674:2:0:2:3:4:4:8:10:11:11:14' npx vitest run test/model.test.ts -t '<test name>'
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryAdapter } from '@sessionfs/adapter-memory';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createRedisAdapter } from '@sessionfs/adapter-redis';
import { createReferenceAdapter } from '@sessionfs/adapter-test-suite';
import { type CacheOptions, createSessionStore, type FsAdapter } from '@sessionfs/core';
import { RedisServer } from '@sessionfs/test-redis-server';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingLogger } from './support/logger.js';
import { type SessionData, StoreModel, VirtualClock } from './support/model.js';
import {
  describeStep,
  MODEL_IDS,
  type Operation,
  type OperationSpace,
  operation,
  perform,
  predict,
} from './support/operations.js';
import { SIZE } from './support/size.js';

/** fast-check's seed and path of a failure to replay, from `FC_SEED` and `FC_PATH`. */
const replay = {
  ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
  ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}),
};

const SECOND = 1_000;
const DAY = 24 * 60 * 60 * SECOND;

/** Clock moves and lifetimes that land exactly on, and one ms around, expiry boundaries. */
const VIRTUAL_EXPIRY = {
  ttl: 5 * SECOND,
  // Ten years from 2030 is past 2038-01-19, where file times stop.
  lifetimes: [1, 999, SECOND, 1_001, 60 * SECOND, DAY, 3_652 * DAY],
  advances: [1, 499, 999, SECOND, 1_001, 5 * SECOND, 60 * SECOND],
  // A start with milliseconds, so that expiries are not whole seconds.
  start: () => Date.UTC(2030, 0, 1, 0, 0, 0, 123),
};

/**
 * Redis expires values by its own clock, the real one: the virtual clock starts at the
 * real time and every lifetime outlasts a whole run, so that nothing expires in either
 * clock and the two never disagree.
 */
const REAL_TIME_EXPIRY = {
  ttl: DAY,
  lifetimes: [DAY, 2 * DAY, 7 * DAY],
  advances: [1, SECOND, 60 * SECOND],
  start: () => Date.now(),
};

interface Backend {
  name: string;
  nativeExpiry: boolean;
  expiry: typeof VIRTUAL_EXPIRY;
  /** A fresh, empty adapter, and how to dispose of it. */
  open(clock: VirtualClock): Promise<{ adapter: FsAdapter; dispose(): Promise<void> }>;
}

let redis: RedisServer | undefined;
afterAll(async () => {
  await redis?.destroy();
});

const backends: Backend[] = [
  {
    name: 'memory',
    nativeExpiry: false,
    expiry: VIRTUAL_EXPIRY,
    open: async () => ({ adapter: createMemoryAdapter(), dispose: async () => {} }),
  },
  {
    name: 'node',
    nativeExpiry: false,
    expiry: VIRTUAL_EXPIRY,
    async open() {
      const root = await mkdtemp(join(tmpdir(), 'sessionfs-model-'));
      return {
        adapter: createNodeAdapter({ dir: join(root, 'sessions') }),
        dispose: () => rm(root, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'reference',
    nativeExpiry: false,
    expiry: VIRTUAL_EXPIRY,
    open: async (clock) => ({
      adapter: createReferenceAdapter({ now: clock.now }),
      dispose: async () => {},
    }),
  },
  {
    name: 'reference with native expiry',
    nativeExpiry: true,
    expiry: VIRTUAL_EXPIRY,
    open: async (clock) => ({
      adapter: createReferenceAdapter({ nativeExpiry: true, now: clock.now }),
      dispose: async () => {},
    }),
  },
  {
    // Only the required methods (no stat, touch, move, cleanup): the store must keep
    // every promise with the smallest contract too.
    name: 'minimal',
    nativeExpiry: false,
    expiry: VIRTUAL_EXPIRY,
    async open() {
      const inner = createMemoryAdapter();
      const adapter: FsAdapter = {
        capabilities: { nativeExpiry: false },
        read: (key, options) => inner.read(key, options),
        write: (key, data, options) => inner.write(key, data, options),
        delete: (key) => inner.delete(key),
        list: (prefix) => inner.list(prefix),
      };
      return { adapter, dispose: async () => {} };
    },
  },
  {
    name: 'redis',
    nativeExpiry: true,
    expiry: REAL_TIME_EXPIRY,
    async open() {
      redis ??= await RedisServer.start();
      const adapter = createRedisAdapter({ url: redis.url, prefix: `model-${randomUUID()}:` });
      return { adapter, dispose: () => adapter.close() };
    },
  },
];

const cacheModes: [string, false | CacheOptions, number][] = [
  // Two stores over one adapter, as two processes over one directory: each must see
  // the other's writes, whatever it remembers or caches.
  ['off', false, 2],
  ['shared', { mode: 'shared' }, 2],
  // Exclusive mode promises nothing to a second writer: one store.
  ['exclusive', { mode: 'exclusive' }, 1],
];

async function runSequence(
  backend: Backend,
  cache: false | CacheOptions,
  storeCount: number,
  steps: Operation[],
): Promise<void> {
  const clock = new VirtualClock(backend.expiry.start());
  const { adapter, dispose } = await backend.open(clock);
  const { logger, warnings, errors } = recordingLogger();
  const open = () =>
    createSessionStore<SessionData>({
      adapter,
      cache,
      now: clock.now,
      ttl: backend.expiry.ttl,
      reapInterval: false,
      logger,
    });
  const model = new StoreModel({
    ttl: backend.expiry.ttl,
    nativeExpiry: backend.nativeExpiry,
    now: clock.now,
  });
  const stores = Array.from({ length: storeCount }, open);
  try {
    for (const [index, step] of steps.entries()) {
      if (step.kind === 'advance') clock.advance(step.ms);
      else if (step.kind === 'restart') stores[step.on] = open();
      else {
        const expected = predict(model, step);
        const store = stores[step.on] as (typeof stores)[number];
        const actual = await perform(store, step, clock.now());
        // toEqual, not toStrictEqual: that one compares `.constructor`, which a session
        // may hold as its own key (JSON data, values from JSON.parse on both sides).
        expect(actual, `step ${index}: ${describeStep(step)}`).toEqual(expected);
      }
    }
    // Nothing in these runs is corrupt or fails: the store had nothing to complain about.
    expect([...warnings, ...errors]).toEqual([]);
  } finally {
    // Closing one store closes the adapter they share.
    await stores[0]?.close();
    await dispose();
  }
}

describe.each(backends)('the store over the $name adapter', (backend) => {
  it.each(cacheModes)(
    'behaves as the model in random runs, with the cache %s',
    async (_, cache, storeCount) => {
      const space: OperationSpace = { ids: MODEL_IDS, stores: storeCount, ...backend.expiry };
      await fc.assert(
        fc.asyncProperty(
          fc.array(operation(space), { maxLength: SIZE.model.maxOperations }),
          (steps) => runSequence(backend, cache, storeCount, steps),
        ),
        { numRuns: SIZE.model.runs, ...replay },
      );
    },
    600_000,
  );
});
