// Faults: every store operation under every fault a disk reports (EIO, ENOSPC, EACCES,
// EMFILE) and under delays, injected by the exported createFaultyAdapter; then random
// operation sequences under random faults; then once on a real full disk (a 1 MB tmpfs).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type AdapterOperation,
  createFaultyAdapter,
  createMemoryAdapter,
  type Fault,
  type FaultKind,
} from '@sessionfs/adapter-memory';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import {
  type CacheOptions,
  createSessionStore,
  type ErrorCode,
  ErrorCodes,
  type FsAdapter,
  SessionStoreError,
  sessionKey,
} from '@sessionfs/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingLogger } from './support/logger.js';
import { type SessionData, StoreModel, VirtualClock } from './support/model.js';
import {
  collect,
  describeStep,
  type Operation,
  operation,
  perform,
  predict,
  type StoreOperation,
} from './support/operations.js';
import { SIZE } from './support/size.js';

const run = promisify(execFile);
const HOUR = 60 * 60 * 1_000;
const TTL = HOUR;

/** The medium's faults: `'throw'` (a foreign error) is the store tests' business. */
type MediumFault = Exclude<FaultKind, 'throw'>;
/** The code each fault must reach the caller with (EMFILE: a real adapter waits it out first). */
const CODES: Record<Exclude<MediumFault, 'delay'>, ErrorCode> = {
  EIO: ErrorCodes.IO,
  ENOSPC: ErrorCodes.NO_SPACE,
  EACCES: ErrorCodes.PERMISSION,
  EMFILE: ErrorCodes.IO,
};
const KINDS: MediumFault[] = ['EIO', 'ENOSPC', 'EACCES', 'EMFILE', 'delay'];
const ADAPTER_OPERATIONS: AdapterOperation[] = [
  'read',
  'write',
  'delete',
  'list',
  'stat',
  'touch',
  'move',
  'cleanup',
];
const CACHES: [string, false | CacheOptions][] = [
  ['off', false],
  ['shared', { mode: 'shared' }],
  ['exclusive', { mode: 'exclusive' }],
];

/** One operation of each store method, on the session `target`. */
const STORE_OPERATIONS: StoreOperation[] = [
  { kind: 'get', id: 'target', on: 0 },
  {
    kind: 'set',
    id: 'target',
    data: { v: 2 },
    lifetime: { kind: 'cookie-expires', ms: HOUR },
    on: 0,
  },
  { kind: 'touch', id: 'target', lifetime: { kind: 'cookie-expires', ms: 2 * HOUR }, on: 0 },
  { kind: 'destroy', id: 'target', on: 0 },
  { kind: 'length', on: 0 },
  { kind: 'ids', on: 0 },
  { kind: 'entries', on: 0 },
  { kind: 'clear', on: 0 },
  { kind: 'reap', on: 0 },
];

/** What each case stores before the fault: the session operated on, a bystander, one to expire. */
const SETUP: StoreOperation[] = [
  {
    kind: 'set',
    id: 'target',
    data: { v: 1 },
    lifetime: { kind: 'cookie-expires', ms: HOUR },
    on: 0,
  },
  { kind: 'set', id: 'keep', data: { v: 'kept' }, lifetime: { kind: 'max-age', ms: HOUR }, on: 0 },
  { kind: 'set', id: 'old', data: {}, lifetime: { kind: 'max-age', ms: 1_000 }, on: 0 },
  // Read once, so that the store knows (and caches) it.
  { kind: 'get', id: 'target', on: 0 },
];

/** A store over a faulty memory adapter, and a model that agrees with it. */
function faultyStore(cache: false | CacheOptions) {
  const clock = new VirtualClock(Date.UTC(2030, 0, 1));
  const inner = createMemoryAdapter();
  const adapter = createFaultyAdapter({ inner, seed: Math.floor(Math.random() * 2 ** 31) });
  const { logger } = recordingLogger();
  // A second store over the same storage caches nothing: exclusive mode allows no other.
  const open = (over: FsAdapter, caching = cache) =>
    createSessionStore<SessionData>({
      adapter: over,
      cache: caching,
      now: clock.now,
      ttl: TTL,
      // The model moves every expiry at once: lazy moves (touchAfter) have their own tests
      // (tests/store lazy-expiry, and the concurrency suite here).
      touchAfter: 0,
      reapInterval: false,
      logger,
    });
  const model = new StoreModel({ ttl: TTL, nativeExpiry: false, now: clock.now });
  return { clock, inner, adapter, store: open(adapter), model, open };
}

/** Runs `step`, which must not throw synchronously; resolves how it settled. */
async function settle(run: () => Promise<unknown>) {
  let pending: Promise<unknown> | undefined;
  expect(() => {
    pending = run();
  }, 'no store method throws synchronously').not.toThrow();
  return (pending as Promise<unknown>).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** The injected error must reach the caller typed, with its code, keeping the cause. */
function expectTyped(error: unknown, codes: ErrorCode[], context: string): void {
  expect(SessionStoreError.isInstance(error), `${context}: ${String(error)}`).toBe(true);
  const typed = error as SessionStoreError;
  expect(codes, context).toContain(typed.code);
  expect(typed.message, context).toMatch(/^@sessionfs/);
  const causes: unknown[] = [];
  for (let cause: unknown = typed; cause instanceof Error; cause = cause.cause) causes.push(cause);
  const injected = causes.some((cause) =>
    KINDS.includes((cause as { code?: MediumFault }).code as MediumFault),
  );
  expect(injected, `${context}: the injected error is in the cause chain`).toBe(true);
}

describe.each(STORE_OPERATIONS.map((step) => [step.kind, step] as const))('store.%s', (_, step) => {
  it.each(KINDS)(
    'under %s on any adapter operation: a typed rejection or the right result; intact after heal',
    async (kind) => {
      for (const [cacheName, cache] of CACHES) {
        for (const target of ['every', ...ADAPTER_OPERATIONS] as const) {
          const context = `${describeStep(step)}, ${kind} on ${target}, cache ${cacheName}`;
          const { clock, inner, adapter, store, open, ...created } = faultyStore(cache);
          let model = created.model;
          for (const setup of SETUP) {
            predict(model, setup);
            await perform(store, setup, clock.now());
          }
          clock.advance(2_000);

          const fault: Fault = { kind, delayMs: 2 };
          if (target !== 'every') fault.operations = [target];
          adapter.inject(fault);
          const before = model.clone();
          const prediction = predict(model, step);
          const outcome = await settle(() => perform(store, step, clock.now()));

          if (!outcome.ok) {
            expect(kind, `${context}: a delay fails nothing`).not.toBe('delay');
            expectTyped(outcome.error, [CODES[kind as Exclude<MediumFault, 'delay'>]], context);
            model = before;
          } else if (step.kind === 'reap' && kind !== 'delay') {
            // The reaper counts what it could not check rather than fail on it.
            const reaped = outcome.value as ReturnType<StoreModel['reap']>;
            const predicted = prediction as ReturnType<StoreModel['reap']>;
            expect(reaped.scanned, context).toBe(predicted.scanned);
            expect(reaped.removed, context).toBeLessThanOrEqual(predicted.removed);
          } else {
            expect(outcome.value, context).toEqual(prediction);
          }
          if (kind !== 'delay' && target === 'every' && cache === false) {
            expect(outcome.ok, `${context}: every operation reaches the adapter`).toBe(false);
          }

          // Once the fault clears: nothing was lost or half-done, for this store and
          // for a fresh one over the same storage, and the store works on.
          adapter.heal();
          const fresh = open(inner, false);
          for (const id of ['target', 'keep', 'old']) {
            const session = model.clone().get(id);
            expect(await store.get(id), `${context}: ${id}`).toEqual(session);
            expect(await fresh.get(id), `${context}: ${id}, fresh store`).toEqual(session);
          }
          expect(await store.length(), context).toBe(model.length());
          await store.set('target', { v: 3 });
          expect(await fresh.get('target'), context).toEqual({ v: 3 });
          await store.destroy('keep');
          expect(await fresh.get('keep'), context).toBeNull();
          await store.close();
        }
      }
    },
  );
});

describe('a corrupt record under faults', () => {
  it.each(KINDS)(
    'reads as no session when %s hits setting it aside, and is set aside once healed',
    async (kind) => {
      for (const target of ['stat', 'move', 'write', 'delete'] as const) {
        const { inner, adapter, store } = faultyStore(false);
        await inner.write(sessionKey('bad'), new TextEncoder().encode('sfs1 garbage'));
        adapter.inject({ kind, operations: [target], delayMs: 2 });
        const outcome = await settle(() => store.get('bad'));
        expect(outcome, `${kind} on ${target}`).toEqual({ ok: true, value: null });
        adapter.heal();
        expect(await store.get('bad')).toBeNull();
        expect(await collect(inner.list('')), `${kind} on ${target}: set aside`).toEqual([
          expect.stringMatching(/^corrupt\./),
        ]);
      }
    },
  );
});

/** Fault steps that random runs mix with store operations. */
type Step = Operation | { kind: 'fault'; fault: Fault } | { kind: 'heal' };

const faultStep: fc.Arbitrary<Step> = fc.record({
  kind: fc.constant('fault' as const),
  fault: fc.oneof(
    fc.record(
      {
        kind: fc.constantFrom(...KINDS),
        operations: fc.subarray(ADAPTER_OPERATIONS, { minLength: 1 }),
        probability: fc.constantFrom(0.2, 0.5, 1),
        times: fc.integer({ min: 1, max: 3 }),
        delayMs: fc.constant(1),
      },
      { requiredKeys: ['kind', 'probability', 'delayMs'] },
    ),
    fc.record(
      {
        kind: fc.constantFrom(...KINDS),
        operations: fc.subarray(ADAPTER_OPERATIONS, { minLength: 1 }),
        at: fc.integer({ min: 1, max: 3 }),
        delayMs: fc.constant(1),
      },
      { requiredKeys: ['kind', 'at', 'delayMs'] },
    ),
  ),
});

describe.each(CACHES)('random runs under random faults, cache %s', (_, cache) => {
  it('every operation resolves as the model says, or rejects typed and changes nothing', async () => {
    const storeOperations = operation({
      ids: ['a', 'b', 'ü/..'],
      lifetimes: [1_000, HOUR],
      advances: [999, 1_000, HOUR],
      stores: 1,
      // Multi-session operations may fail half-way (a listing that breaks after some
      // deletions): the matrix above judges them; here each failure must change nothing.
      without: ['clear', 'reap', 'entries'],
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            { weight: 5, arbitrary: storeOperations },
            { weight: 1, arbitrary: faultStep },
            { weight: 1, arbitrary: fc.constant<Step>({ kind: 'heal' }) },
          ),
          {
            maxLength: 40,
          },
        ),
        async (steps) => {
          const { clock, inner, adapter, open } = faultyStore(cache);
          let store = open(adapter);
          let model = new StoreModel({ ttl: TTL, nativeExpiry: false, now: clock.now });
          const active: Fault[] = [];
          for (const [index, step] of steps.entries()) {
            const context = `step ${index}: ${JSON.stringify(step)}`;
            if (step.kind === 'fault') {
              adapter.inject(step.fault);
              active.push(step.fault);
            } else if (step.kind === 'heal') {
              adapter.heal();
              active.length = 0;
            } else if (step.kind === 'advance') clock.advance(step.ms);
            else if (step.kind === 'restart') store = open(adapter);
            else if (step.kind === 'race') throw new Error('races are drawn only with owners');
            else {
              const before = model.clone();
              const prediction = predict(model, step);
              const outcome = await settle(() => perform(store, step, clock.now()));
              if (outcome.ok) expect(outcome.value, context).toEqual(prediction);
              else {
                const codes = active.flatMap(({ kind }) =>
                  kind === 'delay' ? [] : [CODES[kind as Exclude<MediumFault, 'delay'>]],
                );
                expectTyped(outcome.error, codes, context);
                model = before;
              }
            }
          }
          adapter.heal();
          const fresh = open(inner, false);
          for (const id of ['a', 'b', 'ü/..']) {
            expect(await fresh.get(id), `finally ${id}`).toEqual(model.clone().get(id));
          }
          await fresh.close();
        },
      ),
      { numRuns: SIZE.faults.runs },
    );
  }, 300_000);
});

/** A 1 MB tmpfs, where the machine lets us mount one (root on Linux); why not, otherwise. */
async function mountTinyDisk(): Promise<{ dir: string } | { reason: string }> {
  if (process.platform !== 'linux') return { reason: `tmpfs needs Linux, not ${process.platform}` };
  if (process.getuid?.() !== 0) return { reason: 'mounting a tmpfs needs root' };
  const dir = await mkdtemp(join(tmpdir(), 'sessionfs-full-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir], {
      timeout: 10_000,
    });
    return { dir };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return { reason: `mount -t tmpfs failed: ${(error as Error).message.trim()}` };
  }
}

describe('a real full disk (1 MB tmpfs)', () => {
  let tinyDisk: { dir: string } | { reason: string } = { reason: 'not mounted yet' };
  beforeAll(async () => {
    tinyDisk = await mountTinyDisk();
    if ('reason' in tinyDisk)
      console.warn(`faults: SKIPPING the full-disk test: ${tinyDisk.reason}`);
  });
  afterAll(async () => {
    if (!('dir' in tinyDisk)) return;
    await run('umount', [tinyDisk.dir], { timeout: 10_000 });
    await rm(tinyDisk.dir, { recursive: true, force: true });
  });

  it.for(['auto', 'all'] as const)(
    'with sync %s: ERR_NO_SPACE, every stored session intact, no temp file, works again once space frees',
    async (sync, context) => {
      // Only where this machine cannot mount one (not root, not Linux): the reason is printed.
      if ('reason' in tinyDisk) context.skip(tinyDisk.reason);
      const { dir: mount } = tinyDisk as { dir: string };
      const dir = join(mount, `sessions-${sync}`);
      const store = createSessionStore({
        adapter: createNodeAdapter({ dir, sync }),
        reapInterval: false,
      });
      const big = (n: number) => ({ n, blob: String(n).repeat(200_000) });
      await store.set('keep', { small: true });
      const stored: number[] = [];
      let failure: unknown;
      for (let n = 0; n < 20 && failure === undefined; n += 1) {
        await store.set(`fill-${n}`, big(n)).then(
          () => stored.push(n),
          (error: unknown) => {
            failure = error;
          },
        );
      }
      expect(SessionStoreError.isInstance(failure) && failure.code).toBe(ErrorCodes.NO_SPACE);
      // Replacing a stored session on the full disk fails and keeps the previous one.
      const overwrite = await settle(() => store.set('keep', big(99)));
      expect(overwrite).toMatchObject({ ok: false, error: { code: ErrorCodes.NO_SPACE } });
      expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      const fresh = createSessionStore({
        adapter: createNodeAdapter({ dir }),
        reapInterval: false,
      });
      expect(await fresh.get('keep')).toEqual({ small: true });
      for (const n of stored) expect(await fresh.get(`fill-${n}`)).toEqual(big(n));
      expect(await fresh.length()).toBe(stored.length + 1);

      await store.destroy(`fill-${stored[0]}`);
      await store.set('keep', { small: false });
      expect(await fresh.get('keep')).toEqual({ small: false });
      await fresh.clear();
      await Promise.all([store.close(), fresh.close()]);
    },
  );
});
