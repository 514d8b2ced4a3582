// Model-based property tests: random sequences of store operations, with a virtual clock
// for expiry, on every adapter and cache mode, compared step by step with the plain model
// of test/support/model.ts; then, on every adapter that keeps an owner index, the same
// with the `owner` option and logins, logouts, owner changes, `sessionsOf` and
// `destroyOwner` mixed in. fast-check shrinks a failing sequence to a minimal one.
// To replay a failure, pass the seed and path fast-check printed, and pick the test:
//   FC_SEED=1037401585 FC_PATH='1674:2:0:2:3:4:4:8:10:11:11:14' npx vitest run test/model.test.ts -t '<test name>'
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createMemoryAdapter } from '@sessionfs/adapter-memory';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createRedisAdapter } from '@sessionfs/adapter-redis';
import { createReferenceAdapter } from '@sessionfs/adapter-test-suite';
import {
  type CacheOptions,
  createSessionStore,
  type FsAdapter,
  type SessionStore,
  sessionKey,
} from '@sessionfs/core';
import { RedisServer } from '@sessionfs/test-redis-server';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingLogger } from './support/logger.js';
import {
  type Owner,
  ownerOfSession,
  type SessionData,
  StoreModel,
  VirtualClock,
} from './support/model.js';
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

/**
 * Who logs in, in the owner runs: few, so that sessions change hands often; a number (the
 * store names it by its decimal string), and a name that is no file name.
 */
const OWNERS: readonly Owner[] = ['alice', 'ü/../bob', 7];

/**
 * The session ids of the owner runs: fewer than `MODEL_IDS`, so that logins, logouts and
 * reads of two stores meet on one session often; a long one, whose key is a digest.
 */
const OWNER_RUN_IDS = ['a', 'ü/../é', 'x'.repeat(120)] as const;

/**
 * Whether each backend's adapter keeps an owner index, asked of one: an adapter that gains
 * one (Redis, once its index lands) joins the owner runs with no change here, and one
 * without an index gets no owner run at all.
 */
const indexed = new Set<Backend>();
for (const backend of backends) {
  const { adapter, dispose } = await backend.open(new VirtualClock(backend.expiry.start()));
  if (adapter.owners !== undefined) indexed.add(backend);
  await adapter.close?.();
  await dispose();
}

/**
 * After `sessionsOf` or `destroyOwner`: the adapter holds a record of every live session
 * of the model and of no session the model has not, and the model forgets the expired
 * records the operation happened to read and remove (see `StoreModel.expiredIds`).
 */
async function reconcileExpired(
  model: StoreModel,
  adapter: FsAdapter,
  context: string,
): Promise<void> {
  const expired = new Set(model.expiredIds());
  for (const id of OWNER_RUN_IDS) {
    const held = (await adapter.read(sessionKey(id))) !== null;
    if (expired.has(id)) {
      if (!held) model.forgetRecord(id);
    } else {
      expect(held, `${context}: whether the adapter holds ${id}`).toBe(model.isLive(id));
    }
  }
}

/**
 * Runs the two writes of a `race` step at once, and resolves the model of the order they
 * took effect in: the one whose session a fresh store reads. Then every owner's sessions
 * must be those of that model: no interleaving of two writes may hide a session from its
 * owner, or serve one to someone else.
 */
async function race(
  step: Extract<Operation, { kind: 'race' }>,
  stores: SessionStore<SessionData>[],
  open: () => SessionStore<SessionData>,
  model: StoreModel,
  adapter: FsAdapter,
  index: number,
): Promise<StoreModel> {
  const context = `step ${index}: ${describeStep(step)}`;
  const orders = [
    [step.first, step.second],
    [step.second, step.first],
  ].map((writes) => {
    const ordered = model.clone();
    for (const write of writes) predict(ordered, write);
    return ordered;
  });
  const now = model.now();
  await Promise.all([
    perform(stores[0] as SessionStore<SessionData>, step.first, now),
    perform(stores[1] as SessionStore<SessionData>, step.second, now),
  ]);
  // Never closed: closing a store closes the adapter the others share.
  const seen = await open().get(step.first.id);
  const settled = orders.find((ordered) =>
    isDeepStrictEqual(ordered.clone().get(step.first.id), seen),
  );
  expect(settled, `${context}: the session is that of one order or the other`).toBeDefined();
  const next = settled as StoreModel;
  // The fresh store's read removes an expired record, as the model's does.
  next.get(step.first.id);
  for (const owner of OWNERS) {
    const found = await perform(
      stores[0] as SessionStore<SessionData>,
      { kind: 'sessionsOf', owner, on: 0 },
      now,
    );
    expect(found, `${context}: then sessionsOf(${JSON.stringify(owner)})`).toEqual(
      next.sessionsOf(owner),
    );
    await reconcileExpired(next, adapter, context);
  }
  return next;
}

async function runSequence(
  backend: Backend,
  cache: false | CacheOptions,
  storeCount: number,
  steps: Operation[],
  withOwners = false,
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
      // The model moves an expiry exactly where it is told to; lazy moves, which leave a
      // stored expiry trailing by up to `touchAfter`, have tests of their own
      // (tests/store/test/lazy-expiry.test.ts, and concurrency.test.ts with touchAfter).
      touchAfter: 0,
      reapInterval: false,
      logger,
      ...(withOwners ? { owner: ownerOfSession } : {}),
    });
  let model = new StoreModel({
    ttl: backend.expiry.ttl,
    nativeExpiry: backend.nativeExpiry,
    now: clock.now,
  });
  const stores = Array.from({ length: storeCount }, open);
  try {
    for (const [index, step] of steps.entries()) {
      if (step.kind === 'advance') clock.advance(step.ms);
      else if (step.kind === 'restart') stores[step.on] = open();
      else if (step.kind === 'race') model = await race(step, stores, open, model, adapter, index);
      else {
        const context = `step ${index}: ${describeStep(step)}`;
        // An app touches the session it holds, user and all.
        const user = step.kind === 'touch' ? model.userOf(step.id) : undefined;
        const expected = predict(model, step);
        const store = stores[step.on] as (typeof stores)[number];
        const actual = await perform(store, step, clock.now(), user === undefined ? {} : { user });
        // toEqual, not toStrictEqual: that one compares `.constructor`, which a session
        // may hold as its own key (JSON data, values from JSON.parse on both sides).
        expect(actual, context).toEqual(expected);
        if (step.kind === 'sessionsOf' || step.kind === 'destroyOwner') {
          await reconcileExpired(model, adapter, context);
        }
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

describe.each(backends.filter((backend) => indexed.has(backend)))(
  'the owner index over the $name adapter',
  (backend) => {
    it.each(cacheModes)(
      'finds every session of an owner, and ends exactly those, as the model says in random runs of logins, logouts, owner changes and expiry, with the cache %s',
      async (_, cache, storeCount) => {
        const space: OperationSpace = {
          ids: OWNER_RUN_IDS,
          stores: storeCount,
          owners: OWNERS,
          ...backend.expiry,
        };
        await fc.assert(
          fc.asyncProperty(
            fc.array(operation(space), { maxLength: SIZE.model.maxOperations }),
            (steps) => runSequence(backend, cache, storeCount, steps, true),
          ),
          { numRuns: SIZE.model.runs, ...replay },
        );
      },
      600_000,
    );
  },
);
