import type { SessionStore } from '@sessionfs/core';
import fc from 'fast-check';
import {
  type Lifetime,
  type Owner,
  type SessionData,
  type StoreModel,
  sessionOf,
} from './model.js';

/** One step of a random run: a store operation (on store number `on`), or a clock move. */
export type Operation =
  | { kind: 'get'; id: string; on: number }
  | { kind: 'set'; id: string; data: SessionData; lifetime: Lifetime; on: number }
  | { kind: 'touch'; id: string; lifetime: Lifetime; on: number }
  | { kind: 'destroy'; id: string; on: number }
  | { kind: 'length' | 'ids' | 'entries' | 'clear' | 'reap'; on: number }
  /** A set of a session with `user: { id: user }`: a login, or an owner change. */
  | { kind: 'login'; id: string; user: Owner; data: SessionData; lifetime: Lifetime; on: number }
  /** A set of a session without a user. */
  | { kind: 'logout'; id: string; data: SessionData; lifetime: Lifetime; on: number }
  | { kind: 'sessionsOf'; owner: Owner; on: number }
  | { kind: 'destroyOwner'; owner: Owner; except?: string | string[]; on: number }
  /**
   * Two writes of one session at once, on stores 0 and 1, as two processes make them:
   * where the owner index's rules about order matter.
   */
  | { kind: 'race'; first: RacingWrite; second: RacingWrite }
  | { kind: 'advance'; ms: number }
  /** A new store instance replaces store `on` over the same adapter: no cache, no memory. */
  | { kind: 'restart'; on: number };

export type StoreOperation = Exclude<Operation, { kind: 'advance' | 'restart' | 'race' }>;

/** A write that races another in a `race` step. */
export type RacingWrite = Extract<StoreOperation, { kind: 'login' | 'logout' | 'destroy' }>;

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
  /**
   * The users who log in, for a store with the `owner` option: without it, no owner
   * operation is drawn. With it, no other session data holds a `user`, so that every
   * owner a session has comes from a login.
   */
  owners?: readonly Owner[];
}

/** Ids that exercise the encoding: plain, unicode, path-like, the longest allowed. */
export const MODEL_IDS = ['a', 'b', 'ü/../é', '..', 'x'.repeat(120)] as const;

const DATA_KEYS = ['views', 'user', 'cart', 'ü', '__proto__', 'constructor', ''] as const;

/** Session data besides the cookie: small JSON values under a few keys (never `without`). */
function sessionDataWithout(without: readonly string[]): fc.Arbitrary<SessionData> {
  const keys = DATA_KEYS.filter((key) => !without.includes(key));
  return fc.dictionary(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
}

/** Session data besides the cookie: small JSON values under a few keys. */
export const sessionData: fc.Arbitrary<SessionData> = sessionDataWithout([]);

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
  // With owners, only a login gives a session a user (see `OperationSpace.owners`).
  const data = space.owners ? sessionDataWithout(['user']) : sessionData;
  const choices: [number, Operation['kind'], fc.Arbitrary<Operation>][] = [
    [6, 'get', fc.record({ kind: fc.constant('get'), id, on })],
    [
      6,
      'set',
      fc.record({
        kind: fc.constant('set'),
        id,
        data,
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
  if (space.owners) choices.push(...ownerChoices(space, space.owners, id, on, data));
  return fc.oneof(
    ...choices
      .filter(([, kind]) => !space.without?.includes(kind))
      .map(([weight, , arbitrary]) => ({ weight, arbitrary })),
  );
}

/** The owner operations, drawn over a few users so that sessions change hands often. */
function ownerChoices(
  space: OperationSpace,
  owners: readonly Owner[],
  id: fc.Arbitrary<string>,
  on: fc.Arbitrary<number>,
  data: fc.Arbitrary<SessionData>,
): [number, Operation['kind'], fc.Arbitrary<Operation>][] {
  const user = fc.constantFrom(...owners);
  // Asked about: the users, a number as its decimal string (the same owner), and someone
  // who never logs in.
  const asked = fc.constantFrom(
    ...owners,
    ...owners.filter((owner) => typeof owner === 'number').map(String),
    'nobody',
  );
  // Left out of some steps (see `requiredKeys`): no session kept.
  const except = fc.oneof(id, fc.uniqueArray(id, { maxLength: 3 }));
  const write = (raced: string, store: number): fc.Arbitrary<RacingWrite> => {
    const at = { id: fc.constant(raced), on: fc.constant(store) };
    return fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('login'),
          user,
          data,
          lifetime: lifetime(space),
          ...at,
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('logout'),
          data,
          lifetime: lifetime(space),
          ...at,
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('destroy'), ...at }) },
    );
  };
  const race = id.chain((raced) =>
    fc.record({ kind: fc.constant('race'), first: write(raced, 0), second: write(raced, 1) }),
  );
  return [
    // Two stores are needed for a race.
    ...(space.stores > 1
      ? [[3, 'race', race] as [number, Operation['kind'], fc.Arbitrary<Operation>]]
      : []),
    [
      6,
      'login',
      fc.record({ kind: fc.constant('login'), id, user, data, lifetime: lifetime(space), on }),
    ],
    [
      2,
      'logout',
      fc.record({ kind: fc.constant('logout'), id, data, lifetime: lifetime(space), on }),
    ],
    [3, 'sessionsOf', fc.record({ kind: fc.constant('sessionsOf'), owner: asked, on })],
    [
      2,
      'destroyOwner',
      fc.record(
        { kind: fc.constant('destroyOwner'), owner: asked, except, on },
        { requiredKeys: ['kind', 'owner', 'on'] },
      ),
    ],
  ];
}

/** The data a login saves: `data` with the user. */
export function loginData(step: { user: Owner; data: SessionData }): SessionData {
  return { ...step.data, user: { id: step.user } };
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

const byId = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : 1);

/**
 * Runs `step` on `store`; listings come back sorted, to compare with the model's. Not
 * `async`: a store method that threw synchronously would throw here too. A touch hands
 * the store `touched` besides the cookie: what the app holds of the session (its user,
 * which an index whose entries expire must keep up with).
 */
export function perform(
  store: SessionStore<SessionData>,
  step: StoreOperation,
  now: number,
  touched: SessionData = {},
): Promise<unknown> {
  switch (step.kind) {
    case 'get':
      return store.get(step.id);
    case 'set':
    case 'logout':
      return store.set(step.id, sessionOf(step.data, step.lifetime, now));
    case 'login':
      return store.set(step.id, sessionOf(loginData(step), step.lifetime, now));
    case 'touch':
      return store.touch(step.id, sessionOf(touched, step.lifetime, now));
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
    case 'sessionsOf':
      return collect(store.sessionsOf(step.owner)).then((entries) => entries.sort(byId));
    case 'destroyOwner':
      return store.destroyOwner(
        step.owner,
        step.except === undefined ? undefined : { except: step.except },
      );
  }
}

/** What `step` must resolve, as the model says; applies it to the model. */
export function predict(model: StoreModel, step: StoreOperation): unknown {
  switch (step.kind) {
    case 'get':
      return model.get(step.id);
    case 'set':
    case 'logout':
      return model.set(step.id, step.data, step.lifetime);
    case 'login':
      return model.set(step.id, loginData(step), step.lifetime);
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
    case 'sessionsOf':
      return model.sessionsOf(step.owner);
    case 'destroyOwner':
      return model.destroyOwner(step.owner, step.except);
  }
}

/** A short, readable form of a step for failure reports. */
export function describeStep(step: Operation): string {
  const { kind, ...rest } = step;
  return `${kind} ${JSON.stringify(rest)}`;
}
