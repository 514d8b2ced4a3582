import { createMemoryAdapter } from '@sessionfs/adapter-memory';
import {
  ErrorCodes,
  type FsAdapter,
  hasErrorCode,
  SessionStoreError,
  sessionKey,
} from '@sessionfs/core';
import { describe, expect, it } from 'vitest';
import {
  adapters,
  fastifySession,
  instrument,
  nodeAdapter,
  openStore,
  rejection,
  spyLogger,
  virtualClock,
  withCheapWrites,
} from './helpers.js';

const cyclic = () => {
  const session: Record<string, unknown> = { name: 'loop' };
  session.self = session;
  return session;
};

describe.each(adapters)('failed writes over the %s adapter', (_, createAdapter) => {
  it.each([
    ['a BigInt', () => ({ big: 10n })],
    ['a cycle', cyclic],
    ['undefined', () => undefined as unknown as Record<string, unknown>],
  ])(
    'rejects a session holding %s with ERR_ENCODE_FAILED and keeps the previous one',
    async (_, bad) => {
      const store = openStore({ adapter: await createAdapter() });
      await store.set('id', { good: true });
      const error = await rejection(store.set('id', bad()));
      expect(hasErrorCode(error, ErrorCodes.ENCODE_FAILED)).toBe(true);
      expect((error as Error).cause).toBeInstanceOf(Error);
      expect(await store.get('id')).toEqual({ good: true });
    },
  );

  it('rejects a session over maxRecordBytes with ERR_TOO_LARGE and keeps the previous one', async () => {
    const store = openStore({ adapter: await createAdapter(), maxRecordBytes: 4_096 });
    await store.set('id', { small: true });
    const error = await rejection(store.set('id', { blob: 'x'.repeat(5_000) }));
    expect(hasErrorCode(error, ErrorCodes.TOO_LARGE)).toBe(true);
    expect(await store.get('id')).toEqual({ small: true });
  });

  it('surfaces an I/O failure as a typed error with the adapter error as cause, previous intact', async () => {
    const spy = instrument(await createAdapter());
    const store = openStore({ adapter: spy.adapter });
    await store.set('id', { version: 1 });
    const full = new SessionStoreError(ErrorCodes.NO_SPACE, '@sessionfs/test: disk full');
    spy.fail('write', full);
    const error = await rejection(store.set('id', { version: 2 }));
    expect(hasErrorCode(error, ErrorCodes.NO_SPACE)).toBe(true);
    expect((error as Error).cause).toBe(full);
    spy.fail('write', new Error('plain failure from a third-party adapter'));
    expect(hasErrorCode(await rejection(store.set('id', { version: 3 })), ErrorCodes.IO)).toBe(
      true,
    );
    spy.heal();
    expect(await store.get('id')).toEqual({ version: 1 });
    await store.set('id', { version: 4 });
    expect(await store.get('id')).toEqual({ version: 4 });
  });
});

describe('a full disk on the node adapter', () => {
  it('leaves the previous session readable and no stray file', async () => {
    const { readdir } = await import('node:fs/promises');
    const fs = await import('node:fs');
    const adapter = await nodeAdapter();
    const store = openStore({ adapter });
    await store.set('id', { version: 1 });
    const failing = await nodeAdapter({
      dir: adapter.dir,
      fs: {
        ...fs,
        promises: {
          ...fs.promises,
          rename: async () => {
            throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          },
        },
      },
    });
    const failingStore = openStore({ adapter: failing });
    const error = await rejection(failingStore.set('id', { version: 2 }));
    expect(hasErrorCode(error, ErrorCodes.NO_SPACE)).toBe(true);
    expect((await readdir(adapter.dir)).filter((name) => !name.startsWith('.'))).toEqual([
      sessionKey('id'),
    ]);
    expect(await store.get('id')).toEqual({ version: 1 });
  });
});

const HOUR_MINUS_ONE = 60 * 60 * 1000 - 1;

type Store = ReturnType<typeof openStore>;
type Clock = ReturnType<typeof virtualClock>;

/** What @fastify/session does on each of `count` requests with rolling: true. */
async function rollingRequests(store: Store, clock: Clock, count: number): Promise<void> {
  for (let request = 0; request < count; request += 1) {
    clock.advance(1_000);
    const session = await store.get('id');
    await store.set('id', { ...session, cookie: fastifySession(clock.now()).cookie });
  }
}

/** The session `{ views: 1 }` under 'id' lives until the expiry the last request rolled. */
async function expectAliveUntilRolledExpiry(store: Store, clock: Clock): Promise<void> {
  clock.advance(HOUR_MINUS_ONE);
  expect(await store.get('id')).toEqual(fastifySession(clock.now() - HOUR_MINUS_ONE, { views: 1 }));
}

describe.each(adapters)('unchanged writes over the %s adapter', (_, createAdapter) => {
  it('does not rewrite a session whose content did not change, judged by content', async () => {
    const spy = instrument(await createAdapter());
    const store = openStore({ adapter: spy.adapter });
    const clock = virtualClock();
    const session = fastifySession(clock.now(), { views: 1, user: { name: 'ada' } });
    await store.set('id', session);
    await store.set('id', session);
    await store.set('id', structuredClone(session));
    expect(spy.calls.write).toBe(1);
    await store.set('id', { ...session, views: 2 });
    expect(spy.calls.write).toBe(2);
  });

  it('turns a rolling save that only moves cookie.expires into a touch, not a rewrite (touchAfter 0)', async () => {
    const clock = virtualClock();
    const spy = instrument(await createAdapter());
    const store = openStore({ adapter: spy.adapter, now: clock.now, touchAfter: 0 });
    await store.set('id', fastifySession(clock.now(), { views: 1 }));
    await rollingRequests(store, clock, 5);
    expect(spy.calls.write).toBe(1);
    // One conditional touch per save: no stat first to learn whether the record changed.
    expect(spy.calls.touch).toBe(5);
    expect(spy.calls.stat).toBe(0);
    await expectAliveUntilRolledExpiry(store, clock);
  });

  it('leaves out @fastify/session 11’s load-time cookie.originalExpires, which moves every request', async () => {
    const clock = virtualClock();
    const spy = instrument(await createAdapter());
    const store = openStore({ adapter: spy.adapter, now: clock.now });
    const withLoadTime = (loadedAt: number) => {
      const session = fastifySession(clock.now(), { views: 1 });
      return {
        ...session,
        cookie: { ...session.cookie, originalExpires: new Date(loadedAt).toISOString() },
      };
    };
    await store.set('id', withLoadTime(clock.now()));
    for (let request = 0; request < 3; request += 1) {
      const loadedAt = clock.now();
      clock.advance(1_000);
      await store.set('id', withLoadTime(loadedAt));
    }
    expect(spy.calls.write).toBe(1);
    const stored = (await store.get('id')) as { cookie: Record<string, unknown> };
    expect(stored.cookie).not.toHaveProperty('originalExpires');
    expect(stored.cookie.expires).toBe(new Date(clock.now() + HOUR_MINUS_ONE + 1).toISOString());
  });

  it('does rewrite when another store changed the record meanwhile (touchAfter 0)', async () => {
    const adapter = await createAdapter();
    const spy = instrument(adapter);
    const mine = openStore({ adapter: spy.adapter, touchAfter: 0 });
    const theirs = openStore({ adapter });
    await mine.set('id', { owner: 'mine' });
    expect(await mine.get('id')).toEqual({ owner: 'mine' });
    await theirs.set('id', { owner: 'theirs' });
    await mine.set('id', { owner: 'mine' });
    expect(await theirs.get('id')).toEqual({ owner: 'mine' });
  });

  it('keeps another store’s newer write over a save of what it read, unchanged', async () => {
    const adapter = await createAdapter();
    const mine = openStore({ adapter });
    const theirs = openStore({ adapter });
    await mine.set('id', { owner: 'mine' });
    // A request reads the session, another process changes it, the request saves what it
    // read: the save brings nothing, and the newer write stays.
    expect(await mine.get('id')).toEqual({ owner: 'mine' });
    await theirs.set('id', { owner: 'theirs' });
    await mine.set('id', { owner: 'mine' });
    expect(await theirs.get('id')).toEqual({ owner: 'theirs' });
    // Nor does it bring back a session another process ended meanwhile.
    expect(await mine.get('id')).toEqual({ owner: 'theirs' });
    await theirs.destroy('id');
    await mine.set('id', { owner: 'theirs' });
    expect(await theirs.get('id')).toBeNull();
  });

  it('writes again what it wrote last when another store wrote since, with no read between', async () => {
    const adapter = await createAdapter();
    const mine = openStore({ adapter });
    const theirs = openStore({ adapter });
    await mine.set('id', { owner: 'mine' });
    await theirs.set('id', { owner: 'theirs' });
    // Not a save of what it read: a write, checked as before.
    await mine.set('id', { owner: 'mine' });
    expect(await theirs.get('id')).toEqual({ owner: 'mine' });
  });

  it.each([
    ['off', false],
    ['shared', { mode: 'shared' }],
  ] as const)(
    'never takes the version of a write that lands right after its own (cache %s)',
    async (_, cache) => {
      const adapter = await createAdapter();
      const spy = instrument(adapter);
      const mine = openStore({ adapter: spy.adapter, cache });
      const theirs = openStore({ adapter });
      // Another process renames its file over the key just after this store's write.
      const write = spy.adapter.write;
      let racing = true;
      spy.adapter.write = async (key, data, options) => {
        const written = await write(key, data, options);
        if (racing) {
          racing = false;
          await theirs.set('id', { owner: 'theirs' });
        }
        return written;
      };
      // Saving the same session again is a write, not "unchanged": the disk holds theirs.
      await mine.set('id', { owner: 'mine' });
      await mine.set('id', { owner: 'mine' });
      expect(await theirs.get('id')).toEqual({ owner: 'mine' });
      // Nor does a cached copy pass for what the disk holds.
      racing = true;
      await mine.set('id', { owner: 'mine', again: true });
      expect(await mine.get('id')).toEqual({ owner: 'theirs' });
    },
  );
});

describe('unchanged writes over an adapter whose writes are cheap (cheapWrites)', () => {
  it('saves an unchanged session with one write, never a stat or a touch first (touchAfter 0)', async () => {
    const clock = virtualClock();
    const spy = instrument(withCheapWrites(createMemoryAdapter()));
    const store = openStore({ adapter: spy.adapter, now: clock.now, touchAfter: 0 });
    await store.set('id', fastifySession(clock.now(), { views: 1 }));
    await rollingRequests(store, clock, 5);
    // Expiry unchanged too: still one write, no stat to learn whether it is current.
    await store.set('id', (await store.get('id')) as Record<string, unknown>);
    expect(spy.calls.write).toBe(7);
    expect(spy.calls.touch).toBe(0);
    expect(spy.calls.stat).toBe(0);
    await expectAliveUntilRolledExpiry(store, clock);
  });

  it('writes nothing for a session unchanged in every way when the cache is exclusive', async () => {
    const spy = instrument(withCheapWrites(createMemoryAdapter()));
    const store = openStore({ adapter: spy.adapter, cache: { mode: 'exclusive' } });
    const session = fastifySession(Date.now(), { views: 1 });
    await store.set('id', session);
    await store.set('id', structuredClone(session));
    expect(spy.calls.write).toBe(1);
    await store.set('id', { ...session, views: 2 });
    expect(spy.calls.write).toBe(2);
    expect(await store.get('id')).toMatchObject({ views: 2 });
  });
});

describe('records over an adapter whose writes are cheap (cheapWrites)', () => {
  const header = async (adapter: FsAdapter) => {
    const stored = await adapter.read(sessionKey('id'));
    return new TextDecoder().decode(stored?.data).split('\n')[0];
  };

  it('carry no digest with touchAfter 0, where no save uses it, and read back all the same', async () => {
    const memory = createMemoryAdapter();
    const store = openStore({ adapter: withCheapWrites(memory), touchAfter: 0 });
    await store.set('id', fastifySession(Date.now(), { views: 1 }));
    expect(await header(memory)).toMatch(/^sfs1 \d+ e \d+ -$/);
    expect(await store.get('id')).toMatchObject({ views: 1 });
    // Another store over the same values (another process): served, not set aside.
    expect(await openStore({ adapter: memory }).get('id')).toMatchObject({ views: 1 });
  });

  it('carry a digest under an exclusive cache, which skips unchanged saves by it', async () => {
    const memory = createMemoryAdapter();
    const store = openStore({ adapter: withCheapWrites(memory), cache: { mode: 'exclusive' } });
    await store.set('id', fastifySession(Date.now(), { views: 1 }));
    expect(await header(memory)).toMatch(/^sfs1 \d+ e \d+ [\w-]{27}$/);
  });

  it('without a digest, are still set aside when truncated', async () => {
    const memory = createMemoryAdapter();
    const logger = spyLogger();
    const store = openStore({ adapter: withCheapWrites(memory), logger, touchAfter: 0 });
    await store.set('id', fastifySession(Date.now(), { views: 1 }));
    const stored = await memory.read(sessionKey('id'));
    if (stored === null) throw new Error('the session was not written');
    await memory.write(sessionKey('id'), stored.data.subarray(0, -1));
    expect(await openStore({ adapter: memory, logger }).get('id')).toBeNull();
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ reason: expect.stringMatching(/truncated/) }),
      expect.any(String),
    );
  });
});

describe('nothing throws synchronously', () => {
  it('for any method, whatever the input', async () => {
    const store = openStore({ adapter: createMemoryAdapter() });
    const calls: (() => Promise<unknown>)[] = [
      () => store.get(Symbol('id') as unknown as string),
      () => store.set('id', cyclic()),
      () => store.set('id', { big: 1n }),
      () => store.touch('', {}),
      () => store.destroy({} as unknown as string),
    ];
    for (const call of calls) {
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = call();
      }).not.toThrow();
      expect(SessionStoreError.isInstance(await rejection(promise as Promise<unknown>))).toBe(true);
    }
  });
});
