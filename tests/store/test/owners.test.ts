// The owner index: `sessionsOf(owner)` and `destroyOwner(owner)` ("log out everywhere"),
// and the order of index and record changes that keeps every session findable by its
// owner, also when two stores (two processes) change the same session at once.
import { createFaultyAdapter, createMemoryAdapter } from '@sessionfs/adapter-memory';
import { createReferenceAdapter } from '@sessionfs/adapter-test-suite';
import {
  ErrorCodes,
  type FsAdapter,
  hasErrorCode,
  ownerKey,
  type SessionStoreOptions,
  sessionKey,
} from '@sessionfs/core';
import { describe, expect, it } from 'vitest';
import {
  adapters,
  collect,
  fastifySession,
  HOUR,
  instrument,
  openStore,
  rejection,
  virtualClock,
} from './helpers.js';

type Session = Record<string, unknown> & { user?: { id: string | number } };
const owner = (session: Session) => session.user?.id;

function ownedStore(adapter: FsAdapter, options: Partial<SessionStoreOptions> = {}) {
  return openStore({ adapter, owner, ...options });
}

/** A session of `user` (or of nobody), as a framework hands it to the store. */
function sessionOf(user: string | number | undefined, data: Record<string, unknown> = {}) {
  return fastifySession(Date.now(), user === undefined ? data : { user: { id: user }, ...data });
}

/** The ids `sessionsOf(user)` yields, sorted. */
async function idsOf(store: ReturnType<typeof ownedStore>, user: string | number) {
  return (await collect(store.sessionsOf(user))).map(([id]) => id).sort();
}

/** The keys the adapter's index holds under `user`. */
async function entriesOf(adapter: FsAdapter, user: string) {
  const index = adapter.owners;
  if (!index) throw new Error('the adapter keeps no owner index');
  return (await collect(index.keys(ownerKey(user)))).sort();
}

/**
 * `inner` whose owner-index `remove` waits until `release()` is called: a removal that
 * judged the record stays suspended while another store saves it.
 */
function withHeldRemovals(inner: FsAdapter) {
  let release: () => void = () => {};
  let held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let holding = true;
  const index = inner.owners;
  if (!index) throw new Error('the adapter keeps no owner index');
  const adapter: FsAdapter = Object.assign(Object.create(inner) as FsAdapter, {
    owners: {
      ...index,
      expiring: index.expiring,
      keys: index.keys.bind(index),
      owners: index.owners.bind(index),
      add: index.add.bind(index),
      async remove(ownerKeyName: string, key: string) {
        if (holding) await held;
        return index.remove(ownerKeyName, key);
      },
    },
  });
  return {
    adapter,
    release() {
      holding = false;
      release();
      held = Promise.resolve();
    },
  };
}

describe.each(adapters)('the owner index over the %s adapter', (_, createAdapter) => {
  it('streams the live sessions of an owner, and ends them all but the one asked to keep', async () => {
    const store = ownedStore(await createAdapter());
    await store.set('alice-laptop', sessionOf('alice', { device: 'laptop' }));
    await store.set('alice-phone', sessionOf('alice', { device: 'phone' }));
    await store.set('alice-tablet', sessionOf('alice', { device: 'tablet' }));
    await store.set('bob-laptop', sessionOf('bob'));
    await store.set('anonymous', sessionOf(undefined));

    const alice = await collect(store.sessionsOf('alice'));
    expect(alice.map(([id]) => id).sort()).toEqual(['alice-laptop', 'alice-phone', 'alice-tablet']);
    expect(alice.find(([id]) => id === 'alice-phone')?.[1]).toMatchObject({ device: 'phone' });

    expect(await store.destroyOwner('alice', { except: 'alice-laptop' })).toBe(2);
    expect(await store.get('alice-phone')).toBeNull();
    expect(await store.get('alice-tablet')).toBeNull();
    expect(await store.get('alice-laptop')).toMatchObject({ device: 'laptop' });
    expect(await store.get('bob-laptop')).not.toBeNull();
    expect(await store.get('anonymous')).not.toBeNull();
    expect(await idsOf(store, 'alice')).toEqual(['alice-laptop']);
    expect(await store.destroyOwner('alice')).toBe(1);
    expect(await idsOf(store, 'alice')).toEqual([]);
    expect(await store.destroyOwner('alice')).toBe(0);
  });

  it('takes numeric owners as their decimal string, and any string as an owner', async () => {
    const store = ownedStore(await createAdapter());
    await store.set('a', sessionOf(42));
    await store.set('b', sessionOf('../../etc/passwd'));
    expect(await idsOf(store, 42)).toEqual(['a']);
    expect(await idsOf(store, '42')).toEqual(['a']);
    expect(await idsOf(store, '../../etc/passwd')).toEqual(['b']);
  });

  it('moves a session to its new owner when someone else logs in, and out of the index on logout', async () => {
    const adapter = await createAdapter();
    const store = ownedStore(adapter);
    await store.set('shared-computer', sessionOf('alice'));
    await store.set('shared-computer', sessionOf('bob'));
    expect(await idsOf(store, 'alice')).toEqual([]);
    expect(await idsOf(store, 'bob')).toEqual(['shared-computer']);
    // Left at once, not only skipped when read.
    expect(await entriesOf(adapter, 'alice')).toEqual([]);
    await store.set('shared-computer', sessionOf(undefined));
    expect(await idsOf(store, 'bob')).toEqual([]);
    expect(await entriesOf(adapter, 'bob')).toEqual([]);
    expect(await store.get('shared-computer')).not.toBeNull();
  });

  it('takes a destroyed session out of its owner index', async () => {
    const adapter = await createAdapter();
    const store = ownedStore(adapter);
    await store.set('s', sessionOf('alice'));
    await store.destroy('s');
    expect(await entriesOf(adapter, 'alice')).toEqual([]);
  });

  it('serves a long session id by its id', async () => {
    const store = ownedStore(await createAdapter());
    const longId = 'x'.repeat(500);
    await store.set(longId, sessionOf('alice'));
    expect(await idsOf(store, 'alice')).toEqual([longId]);
    expect(await store.destroyOwner('alice')).toBe(1);
    expect(await store.get(longId)).toBeNull();
  });

  it('never serves a stale entry: one whose session another store gave to someone else', async () => {
    const adapter = await createAdapter();
    const first = ownedStore(adapter);
    const second = ownedStore(adapter);
    await first.set('s', sessionOf('alice'));
    // The second store never read it: it cannot know alice's entry is there to remove.
    await second.set('s', sessionOf('bob'));
    expect(await entriesOf(adapter, 'alice')).toEqual([sessionKey('s')]);
    expect(await idsOf(first, 'alice')).toEqual([]);
    expect(await first.destroyOwner('alice')).toBe(0);
    expect(await first.get('s')).toMatchObject({ user: { id: 'bob' } });
    // The look removed the stale entry.
    expect(await entriesOf(adapter, 'alice')).toEqual([]);
  });

  it('never serves an expired session, and the reaper sweeps the entries of reaped ones', async () => {
    const clock = virtualClock(Date.now());
    const adapter = await createAdapter();
    const store = ownedStore(adapter, { now: clock.now });
    await store.set('short', fastifySession(clock.now(), { user: { id: 'alice' } }, 1_000));
    await store.set('long', fastifySession(clock.now(), { user: { id: 'alice' } }, HOUR));
    clock.advance(5_000);
    expect(await idsOf(store, 'alice')).toEqual(['long']);
    await store.set('short-2', fastifySession(clock.now(), { user: { id: 'carol' } }, 1_000));
    clock.advance(5_000);
    const reaped = await store.reap();
    expect(reaped.removed).toBeGreaterThanOrEqual(1);
    expect(await entriesOf(adapter, 'carol')).toEqual([]);
    expect(await entriesOf(adapter, 'alice')).toEqual([sessionKey('long')]);
  });

  it('refuses an owner it cannot index, and keeps the stored session', async () => {
    const store = openStore({
      adapter: await createAdapter(),
      owner: (session: Session) => session.user as unknown as string,
    });
    await store.set('s', sessionOf(undefined, { n: 1 }));
    const error = await rejection(store.set('s', sessionOf('alice', { n: 2 })));
    expect(hasErrorCode(error, ErrorCodes.INVALID_OPTION)).toBe(true);
    expect(await store.get('s')).toMatchObject({ n: 1 });
  });

  it('reaches only the owner’s entries: no listing of the store', async () => {
    const spy = instrument(await createAdapter());
    const store = ownedStore(spy.adapter);
    for (let i = 0; i < 50; i += 1) await store.set(`other-${i}`, sessionOf(`user-${i}`));
    await store.set('mine', sessionOf('alice'));
    spy.reset();
    expect(await idsOf(store, 'alice')).toEqual(['mine']);
    expect(await store.destroyOwner('alice')).toBe(1);
    expect(spy.calls.list).toBe(0);
    expect(spy.calls.read).toBeLessThanOrEqual(2);
  });

  it('adds nothing before a save that keeps the owner it last saw', async () => {
    const spy = instrument(await createAdapter());
    const store = ownedStore(spy.adapter);
    await store.set('s', sessionOf('alice', { n: 1 }));
    spy.reset();
    await store.set('s', sessionOf('alice', { n: 2 }));
    // Only the idempotent add after the write.
    expect(spy.calls.index).toBe(1);
    expect(spy.calls.write).toBe(1);
  });
});

describe('the owner index across two stores sharing one medium', () => {
  it('keeps a session findable when a store that last saw it as alice’s saves it again after another store gave it to bob', async () => {
    const adapter = createMemoryAdapter();
    const stale = ownedStore(adapter);
    const other = ownedStore(adapter);
    await stale.set('s', sessionOf('alice', { n: 1 }));
    await other.get('s');
    await other.set('s', sessionOf('bob'));
    expect(await entriesOf(adapter, 'alice')).toEqual([]);
    // A request that read the session before bob logged in saves it last.
    await stale.set('s', sessionOf('alice', { n: 2 }));
    expect(await idsOf(other, 'alice')).toEqual(['s']);
    expect(await other.destroyOwner('alice')).toBe(1);
    expect(await other.get('s')).toBeNull();
  });

  it('keeps the entry of a save that lands while another store removes it', async () => {
    const memory = createMemoryAdapter();
    const held = withHeldRemovals(memory);
    const leaving = ownedStore(held.adapter);
    const saving = ownedStore(memory);
    await leaving.set('s', sessionOf('alice', { n: 1 }));
    await saving.get('s');
    // bob logs in; the removal of alice's entry waits...
    const login = leaving.set('s', sessionOf('bob'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // ...while a request of alice's that read the session before saves it.
    await saving.set('s', sessionOf('alice', { n: 2 }));
    held.release();
    await login;
    expect(await idsOf(saving, 'alice')).toEqual(['s']);
    expect(await saving.destroyOwner('alice')).toBe(1);
  });

  it('leaves a session someone else logged into while destroyOwner looked at it', async () => {
    const memory = createMemoryAdapter();
    const ending = ownedStore(memory);
    const other = ownedStore(memory);
    await ending.set('s', sessionOf('alice'));
    await other.get('s');
    const inner = memory.delete.bind(memory);
    let raced = false;
    // Between destroyOwner's read and its delete, bob logs in on that session.
    memory.delete = async (key, options) => {
      if (!raced && options?.ifVersion !== undefined) {
        raced = true;
        await other.set('s', sessionOf('bob'));
      }
      return inner(key, options);
    };
    expect(await ending.destroyOwner('alice')).toBe(0);
    expect(raced).toBe(true);
    expect(await other.get('s')).toMatchObject({ user: { id: 'bob' } });
  });
});

describe('destroyOwner racing a save of the same owner', () => {
  it('ends a session its owner saved again while destroyOwner was about to remove it', async () => {
    const memory = createMemoryAdapter();
    const ending = ownedStore(memory);
    const saving = ownedStore(memory);
    await saving.set('s', sessionOf('alice', { n: 1 }));
    const inner = memory.delete.bind(memory);
    let raced = false;
    // Between destroyOwner's look and its delete, a request of alice's saves the session.
    memory.delete = async (key, options) => {
      if (!raced && options?.ifVersion !== undefined) {
        raced = true;
        await saving.set('s', sessionOf('alice', { n: 2 }));
      }
      return inner(key, options);
    };
    expect(await ending.destroyOwner('alice')).toBe(1);
    expect(raced).toBe(true);
    expect(await ending.get('s')).toBeNull();
    expect(await entriesOf(memory, 'alice')).toEqual([]);
  });

  it('keeps a session its owner saves right after destroyOwner ended it findable', async () => {
    const memory = createMemoryAdapter();
    const ending = ownedStore(memory);
    const saving = ownedStore(memory);
    await saving.set('s', sessionOf('alice', { n: 1 }));
    const inner = memory.delete.bind(memory);
    memory.delete = async (key, options) => {
      const removed = await inner(key, options);
      // A request in flight saves the session again just after it ended.
      if (options?.ifVersion !== undefined) await saving.set('s', sessionOf('alice', { n: 2 }));
      return removed;
    };
    expect(await ending.destroyOwner('alice')).toBe(1);
    memory.delete = inner;
    expect(await idsOf(ending, 'alice')).toEqual(['s']);
    expect(await ending.destroyOwner('alice')).toBe(1);
    expect(await ending.get('s')).toBeNull();
  });
});

describe('a save cut short after its write', () => {
  it('has recorded the owner before the record: a crash before the look after hides nothing', async () => {
    const adapter = createFaultyAdapter({ inner: createMemoryAdapter() });
    const store = ownedStore(adapter);
    // The save's first index call (before the write) goes through; the second (after the
    // write) fails, as a process killed between the two would leave it.
    adapter.inject({ kind: 'EIO', operations: ['index'], at: 2, times: 1 });
    const error = await rejection(store.set('s', sessionOf('alice')));
    expect(hasErrorCode(error, ErrorCodes.IO)).toBe(true);
    adapter.heal();
    const other = ownedStore(adapter);
    expect(await idsOf(other, 'alice')).toEqual(['s']);
    expect(await other.destroyOwner('alice')).toBe(1);
  });
});

describe('owner option checks', () => {
  it('needs an adapter with an owner index', async () => {
    const adapter = createReferenceAdapter();
    const { owners: _, ...withoutIndex } = adapter;
    const error = await rejection(
      (async () => openStore({ adapter: withoutIndex as FsAdapter, owner }))(),
    );
    expect(hasErrorCode(error, ErrorCodes.INVALID_OPTION)).toBe(true);
  });

  it('refuses sessionsOf and destroyOwner without the owner option', async () => {
    const store = openStore({ adapter: createMemoryAdapter() });
    expect(
      hasErrorCode(await rejection(collect(store.sessionsOf('alice'))), ErrorCodes.INVALID_OPTION),
    ).toBe(true);
    expect(
      hasErrorCode(await rejection(store.destroyOwner('alice')), ErrorCodes.INVALID_OPTION),
    ).toBe(true);
  });

  it('works over the reference adapter', async () => {
    const store = ownedStore(createReferenceAdapter());
    await store.set('a', sessionOf('alice'));
    await store.set('b', sessionOf('alice'));
    expect(await store.destroyOwner('alice')).toBe(2);
    expect(await store.get('a')).toBeNull();
  });
});
