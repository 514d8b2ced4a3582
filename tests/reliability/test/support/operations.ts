import type { SessionStore } from '@sessionfs/core';
import fc from 'fast-check';
import { type Lifetime, type SessionData, type StoreModel, sessionOf } from './model.js';

/** One step of a random run: a store operation (on store number `on`), or a clock move. */
export type Operation =
  | { kind: 'get'; id: string; on: number }
  | { kind: 'set'; id: string; data: SessionData; lifetime: Lifetime; on: number }
  | { kind: 'touch'; id: string; lifetime: Lifetime; on: number }
  | { kind: 'destroy'; id: string; on: number }
  | { kind: 'length' | 'ids' | 'entries' | 'clear' | 'reap'; on: number }
  | { kind: 'advance'; ms: number }
  /** A new store instance replaces store `on` over the same adapter: no cache, no memory. */
  | { kind: 'restart'; on: number };

export type StoreOperation = Exclude<Operation, { kind: 'advance' | 'restart' }>;

/** What random runs draw from. */
export interface OperationSpace {
  /** The session ids. A few, so that operations meet on the same session. */
  ids: readonly string[];
  /** Lifetimes in ms that sessions state (`cookie.expires`, `originalMaxAge`). */
  lifetimes: readonly number[];
  /** Clock moves in ms. */
  advances: readonly number[];
  /** How many store instances share the adapter. */
  stores: number;
  /** Leave out these operations (say, those a fault test cannot judge). */
  without?: readonly Operation['kind'][];
}

/** Ids that exercise the encoding: plain, unicode, path-like, the longest allowed. */
export const MODEL_IDS = ['a', 'b', 'ü/../é', '..', 'x'.repeat(120)] as const;

const dataKey = fc.constantFrom('views', 'user', 'cart', 'ü', '__proto__', 'constructor', '');

/** Session data besides the cookie: small JSON values under a few keys. */
export const sessionData: fc.Arbitrary<SessionData> = fc.dictionary(
  dataKey,
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);

function lifetime(space: OperationSpace): fc.Arbitrary<Lifetime> {
  const ms = fc.constantFrom(...space.lifetimes);
  return fc.oneof(
    fc.record({ kind: fc.constant('cookie-expires' as const), ms }),
    fc.record({ kind: fc.constant('max-age' as const), ms }),
    fc.constant({ kind: 'ttl' as const }),
  );
}

export function operation(space: OperationSpace): fc.Arbitrary<Operation> {
  const id = fc.constantFrom(...space.ids);
  const on = fc.integer({ min: 0, max: space.stores - 1 });
  const choices: [number, Operation['kind'], fc.Arbitrary<Operation>][] = [
    [6, 'get', fc.record({ kind: fc.constant('get'), id, on })],
    [
      6,
      'set',
      fc.record({
        kind: fc.constant('set'),
        id,
        data: sessionData,
        lifetime: lifetime(space),
        on,
      }),
    ],
    [3, 'touch', fc.record({ kind: fc.constant('touch'), id, lifetime: lifetime(space), on })],
    [2, 'destroy', fc.record({ kind: fc.constant('destroy'), id, on })],
    [1, 'length', fc.record({ kind: fc.constant('length'), on })],
    [1, 'ids', fc.record({ kind: fc.constant('ids'), on })],
    [1, 'entries', fc.record({ kind: fc.constant('entries'), on })],
    [1, 'clear', fc.record({ kind: fc.constant('clear'), on })],
    [1, 'reap', fc.record({ kind: fc.constant('reap'), on })],
    [
      3,
      'advance',
      fc.record({ kind: fc.constant('advance'), ms: fc.constantFrom(...space.advances) }),
    ],
    [1, 'restart', fc.record({ kind: fc.constant('restart'), on })],
  ];
  return fc.oneof(
    ...choices
      .filter(([, kind]) => !space.without?.includes(kind))
      .map(([weight, , arbitrary]) => ({ weight, arbitrary })),
  );
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

const byId = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : 1);

/**
 * Runs `step` on `store`; listings come back sorted, to compare with the model's. Not
 * `async`: a store method that threw synchronously would throw here too.
 */
export function perform(
  store: SessionStore<SessionData>,
  step: StoreOperation,
  now: number,
): Promise<unknown> {
  switch (step.kind) {
    case 'get':
      return store.get(step.id);
    case 'set':
      return store.set(step.id, sessionOf(step.data, step.lifetime, now));
    case 'touch':
      return store.touch(step.id, sessionOf({}, step.lifetime, now));
    case 'destroy':
      return store.destroy(step.id);
    case 'length':
      return store.length();
    case 'ids':
      return collect(store.ids()).then((ids) => ids.sort());
    case 'entries':
      return collect(store.entries()).then((entries) => entries.sort(byId));
    case 'clear':
      return store.clear();
    case 'reap':
      return store.reap();
  }
}

/** What `step` must resolve, as the model says; applies it to the model. */
export function predict(model: StoreModel, step: StoreOperation): unknown {
  switch (step.kind) {
    case 'get':
      return model.get(step.id);
    case 'set':
      return model.set(step.id, step.data, step.lifetime);
    case 'touch':
      return model.touch(step.id, step.lifetime);
    case 'destroy':
      return model.destroy(step.id);
    case 'length':
      return model.length();
    case 'ids':
      return model.ids();
    case 'entries':
      return model.entries();
    case 'clear':
      return model.clear();
    case 'reap':
      return model.reap();
  }
}

/** A short, readable form of a step for failure reports. */
export function describeStep(step: Operation): string {
  const { kind, ...rest } = step;
  return `${kind} ${JSON.stringify(rest)}`;
}
