// Lazy expiry moves (`touchAfter`): a save of an unchanged session that only pushes its
// expiry a little further does no I/O at all; the stored expiry trails the cookie's by at
// most `touchAfter`, and never so far that another process finds the session expired.
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryAdapter } from '@sessionfs/adapter-memory';
import { sessionKey } from '@sessionfs/core';
import { describe, expect, it } from 'vitest';
import {
  adapters,
  fastifySession,
  HOUR,
  instrument,
  nodeAdapter,
  openStore,
  storeProcess,
  virtualClock,
  withCheapWrites,
} from './helpers.js';

type Clock = ReturnType<typeof virtualClock>;
type Store = ReturnType<typeof openStore>;

/** One request of a rolling session: read it, save it with the cookie moved to now + maxAge. */
async function request(store: Store, clock: Clock, maxAge = HOUR): Promise<void> {
  const session = await store.get('id');
  expect(session).not.toBeNull();
  await store.set('id', { ...session, cookie: fastifySession(clock.now(), {}, maxAge).cookie });
}

const operations = (spy: ReturnType<typeof instrument>) =>
  spy.calls.write + spy.calls.touch + spy.calls.stat;

describe.each([
  ...adapters,
  ['memory, cheapWrites', async () => withCheapWrites(createMemoryAdapter())],
] as const)('touchAfter over the %s adapter', (_, createAdapter) => {
  it('saves a rolling session with no I/O until its expiry would trail by more than touchAfter', async () => {
    const clock = virtualClock();
    const spy = instrument(await createAdapter());
    const store = openStore({ adapter: spy.adapter, now: clock.now, touchAfter: 10_000 });
    await store.set('id', fastifySession(clock.now(), { views: 1 }));
    spy.reset();
    for (let i = 0; i < 9; i += 1) {
      clock.advance(1_000);
      await request(store, clock);
    }
    // Nine requests, 9 s of expiry to move: within touchAfter, nothing but the reads.
    expect(operations(spy)).toBe(0);
    clock.advance(2_000);
    await request(store, clock);
    expect(operations(spy)).toBe(1);
    // The stored expiry is the cookie's again, and trails it by at most touchAfter since.
    const cookieExpiry = clock.now() + HOUR;
    expect((await store.inspectKey(sessionKey('id')))?.expiresAt).toBe(cookieExpiry);
    for (let i = 0; i < 30; i += 1) {
      clock.advance(700);
      await request(store, clock);
      const stored = (await store.inspectKey(sessionKey('id')))?.expiresAt ?? 0;
      expect(clock.now() + HOUR - stored).toBeLessThanOrEqual(10_000);
    }
  });

  it('defaults to 1% of the lifetime, at most one minute', async () => {
    for (const [maxAge, touchAfter] of [
      [10 * 60_000, 6_000],
      [24 * HOUR, 60_000],
    ] as const) {
      const clock = virtualClock();
      const spy = instrument(await createAdapter());
      const store = openStore({ adapter: spy.adapter, now: clock.now });
      await store.set('id', fastifySession(clock.now(), { views: 1 }, maxAge));
      spy.reset();
      clock.advance(touchAfter);
      await request(store, clock, maxAge);
      expect(operations(spy), `maxAge ${maxAge}`).toBe(0);
      clock.advance(1);
      await request(store, clock, maxAge);
      expect(operations(spy), `maxAge ${maxAge}`).toBe(1);
    }
  });

  it('stores at once an expiry earlier than the stored one, and any change of data', async () => {
    const clock = virtualClock();
    const spy = instrument(await createAdapter());
    const store = openStore({ adapter: spy.adapter, now: clock.now, touchAfter: 60_000 });
    await store.set('id', fastifySession(clock.now(), { views: 1 }));
    spy.reset();
    const session = await store.get('id');
    await store.set('id', { ...session, cookie: fastifySession(clock.now(), {}, HOUR / 2).cookie });
    expect((await store.inspectKey(sessionKey('id')))?.expiresAt).toBe(clock.now() + HOUR / 2);
    await store.set('id', { ...(await store.get('id')), views: 2 });
    expect(await store.get('id')).toMatchObject({ views: 2 });
  });

  it('touch() moves nothing within touchAfter either, and something beyond it', async () => {
    const clock = virtualClock();
    const spy = instrument(await createAdapter());
    const store = openStore({ adapter: spy.adapter, now: clock.now, touchAfter: 5_000 });
    await store.set('id', fastifySession(clock.now(), { views: 1 }));
    const session = await store.get('id');
    spy.reset();
    clock.advance(4_000);
    await store.touch('id', { ...session, cookie: fastifySession(clock.now()).cookie });
    expect(operations(spy)).toBe(0);
    clock.advance(2_000);
    await store.touch('id', { ...session, cookie: fastifySession(clock.now()).cookie });
    expect(operations(spy)).toBeGreaterThan(0);
    expect((await store.inspectKey(sessionKey('id')))?.expiresAt).toBe(clock.now() + HOUR);
  });

  it('with touchAfter 0 moves the expiry on every save, as before', async () => {
    const clock = virtualClock();
    const spy = instrument(await createAdapter());
    const store = openStore({ adapter: spy.adapter, now: clock.now, touchAfter: 0 });
    await store.set('id', fastifySession(clock.now(), { views: 1 }));
    spy.reset();
    for (let i = 0; i < 3; i += 1) {
      clock.advance(1_000);
      await request(store, clock);
    }
    expect(operations(spy)).toBe(3);
  });
});

it('refuses a touchAfter that is not a number of ms', () => {
  for (const touchAfter of [-1, Number.NaN, Number.POSITIVE_INFINITY, '1s']) {
    expect(() =>
      openStore({ adapter: createMemoryAdapter(), touchAfter: touchAfter as number }),
    ).toThrow(/touchAfter/);
  }
});

describe('across processes', () => {
  it('a session kept alive by requests in one process never reads as expired in another', async () => {
    const adapter = await nodeAdapter();
    // A short life, and a touchAfter that lets the stored expiry trail a quarter of it.
    const maxAge = 1_600;
    const spy = instrument(adapter);
    const here = openStore({ adapter: spy.adapter, touchAfter: 400 });
    const there = storeProcess(adapter.dir, 'none');
    try {
      await here.set('id', fastifySession(Date.now(), { views: 1 }, maxAge));
      let requests = 0;
      let checks = 0;
      const until = Date.now() + 3 * maxAge;
      const keepAlive = (async () => {
        while (Date.now() < until) {
          const session = await here.get('id');
          expect(session).not.toBeNull();
          await here.set('id', {
            ...session,
            cookie: fastifySession(Date.now(), {}, maxAge).cookie,
          });
          requests += 1;
          await sleep(150);
        }
      })();
      while (Date.now() < until) {
        const answer = await there.send({ op: 'get', id: 'id' });
        expect(answer.result, `check ${checks} in the other process`).toMatchObject({ views: 1 });
        checks += 1;
        await sleep(50);
      }
      await keepAlive;
      expect(checks).toBeGreaterThan(20);
      // Most requests moved nothing: fewer expiry moves than requests.
      expect(spy.calls.touch + spy.calls.write).toBeLessThan(requests / 2);
    } finally {
      await there.stop();
    }
  });
});
