import { execFile } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createMemoryAdapter } from '@sessionfs/adapter-memory';
import { createReferenceAdapter } from '@sessionfs/adapter-test-suite';
import { sessionKey } from '@sessionfs/core';
import { describe, expect, it } from 'vitest';
import {
  adapters,
  collect,
  fastifySession,
  HOUR,
  instrument,
  openStore,
  spyLogger,
  virtualClock,
} from './helpers.js';

const run = promisify(execFile);

describe.each(adapters)('expiry over the %s adapter', (_, createAdapter) => {
  it('takes the expiry from cookie.expires and never returns the session past it', async () => {
    const clock = virtualClock();
    const adapter = await createAdapter();
    const store = openStore({ adapter, now: clock.now });
    const session = fastifySession(clock.now(), { views: 3 }, 30_000);
    await store.set('visitor', session);
    expect((await adapter.stat?.(sessionKey('visitor')))?.expiresAt).toBe(clock.now() + 30_000);
    clock.advance(29_999);
    expect(await store.get('visitor')).toEqual(session);
    clock.advance(1);
    expect(await store.get('visitor')).toBeNull();
    // The expired record is removed when found, before any reaper runs.
    expect(await adapter.read(sessionKey('visitor'))).toBeNull();
  });

  it('accepts cookie.expires as a Date, as @fastify/session holds it before JSON', async () => {
    const clock = virtualClock();
    const store = openStore({ adapter: await createAdapter(), now: clock.now });
    const expires = new Date(clock.now() + 5_000);
    await store.set('d', { cookie: { expires, originalMaxAge: 5_000 }, n: 1 });
    expect(await store.get('d')).toEqual({
      cookie: { expires: expires.toISOString(), originalMaxAge: 5_000 },
      n: 1,
    });
    clock.advance(5_000);
    expect(await store.get('d')).toBeNull();
  });

  it('falls back to originalMaxAge, then to ttl', async () => {
    const clock = virtualClock();
    const store = openStore({ adapter: await createAdapter(), now: clock.now, ttl: 10_000 });
    await store.set('max-age', { cookie: { originalMaxAge: 2_000, expires: null } });
    await store.set('browser-session', { cookie: { originalMaxAge: null, expires: null } });
    await store.set('no-cookie', { plain: true });
    clock.advance(2_000);
    expect(await store.get('max-age')).toBeNull();
    expect(await store.get('browser-session')).not.toBeNull();
    expect(await store.get('no-cookie')).toEqual({ plain: true });
    clock.advance(8_000);
    expect(await store.get('browser-session')).toBeNull();
    expect(await store.get('no-cookie')).toBeNull();
  });

  it('touch moves the expiry, and get reports the moved cookie.expires', async () => {
    const clock = virtualClock();
    const store = openStore({ adapter: await createAdapter(), now: clock.now });
    await store.set('t', fastifySession(clock.now(), { views: 1 }, 10_000));
    clock.advance(9_000);
    const renewed = fastifySession(clock.now(), { views: 1 }, 10_000);
    await store.touch('t', renewed);
    clock.advance(9_000);
    expect(await store.get('t')).toEqual(renewed);
    clock.advance(1_000);
    expect(await store.get('t')).toBeNull();
  });

  it('touch of a missing session creates nothing', async () => {
    const clock = virtualClock();
    const store = openStore({ adapter: await createAdapter(), now: clock.now });
    await store.touch('ghost', fastifySession(clock.now()));
    expect(await store.get('ghost')).toBeNull();
    expect(await store.length()).toBe(0);
  });

  it('moves an expiry past 2038-01-19, where file times stop, by a save or a touch', async () => {
    const clock = virtualClock();
    const store = openStore({ adapter: await createAdapter(), now: clock.now });
    const until = (date: number) => fastifySession(clock.now(), { v: 1 }, date - clock.now());
    await store.set('id', until(Date.UTC(2037, 11, 31)));
    // A rolling save of the same data: an expiry move, where the adapter can make it.
    await store.set('id', until(Date.UTC(2040, 0, 1)));
    expect(await store.get('id')).toEqual(until(Date.UTC(2040, 0, 1)));
    await store.touch('id', until(Date.UTC(2041, 0, 1)));
    expect(await openStore({ adapter: store.adapter, now: clock.now }).get('id')).toMatchObject({
      cookie: { expires: '2041-01-01T00:00:00.000Z' },
      v: 1,
    });
    clock.advance(Date.UTC(2040, 6, 1) - clock.now());
    expect(await store.get('id')).not.toBeNull();
  });

  it('touch of a session destroyed under it writes nothing, also once it is back', async () => {
    const clock = virtualClock();
    const adapter = await createAdapter();
    const spy = instrument(adapter);
    const mine = openStore({ adapter: spy.adapter, now: clock.now });
    const theirs = openStore({ adapter, now: clock.now });
    await mine.set('id', fastifySession(clock.now(), { owner: 'mine' }));
    // Another process destroys the session as this touch runs, then saves a new one.
    const touch = spy.adapter.touch;
    spy.adapter.touch = async (key, expiresAt) => {
      await theirs.destroy('id');
      const moved = (await touch?.(key, expiresAt)) ?? false;
      await theirs.set('id', fastifySession(clock.now(), { owner: 'theirs' }));
      return moved;
    };
    spy.reset();
    await mine.touch('id', fastifySession(clock.now(), {}, 2 * HOUR));
    expect(spy.calls.write).toBe(0);
    expect(await theirs.get('id')).toEqual(fastifySession(clock.now(), { owner: 'theirs' }));
  });

  it('touch of an expired session revives nothing, whether this store read it or not', async () => {
    const clock = virtualClock();
    const adapter = await createAdapter();
    const store = openStore({ adapter, now: clock.now });
    const stranger = openStore({ adapter, now: clock.now });
    await store.set('seen', fastifySession(clock.now(), {}, 1_000));
    await store.set('unseen', fastifySession(clock.now(), {}, 1_000));
    clock.advance(1_000);
    await store.touch('seen', fastifySession(clock.now()));
    await stranger.touch('unseen', fastifySession(clock.now()));
    expect(await store.length()).toBe(0);
    expect(await store.get('seen')).toBeNull();
    expect(await stranger.get('unseen')).toBeNull();
  });

  it('stores any expiry a session states: before 1970 is expired, centuries ahead reads back', async () => {
    const clock = virtualClock();
    const adapter = await createAdapter();
    const logger = spyLogger();
    const store = openStore({ adapter, now: clock.now, logger });
    const forever = openStore({ adapter, now: clock.now, logger, ttl: 1e20 });
    await store.set('1969', { cookie: { expires: '1969-12-31T23:59:59.999Z' }, n: 1 });
    await store.set('max-age', { cookie: { originalMaxAge: 1e300 }, n: 2 });
    await forever.set('ttl', { n: 3 });
    await store.set('touched', fastifySession(clock.now(), { n: 4 }));
    await store.touch('touched', { cookie: { originalMaxAge: 1e300 } });
    expect(await store.get('1969')).toBeNull();
    expect(await store.get('max-age')).toEqual({ cookie: { originalMaxAge: 1e300 }, n: 2 });
    expect(await store.get('ttl')).toEqual({ n: 3 });
    expect(await store.get('touched')).toMatchObject({ n: 4 });
    expect(logger.warn).not.toHaveBeenCalled();
    expect((await collect(adapter.list(''))).length).toBe(3);
  });

  it('reap removes exactly the expired sessions and leaves other files alone', async () => {
    const clock = virtualClock();
    const adapter = await createAdapter();
    const store = openStore({ adapter, now: clock.now });
    for (let i = 0; i < 40; i += 1) {
      await store.set(`s${i}`, fastifySession(clock.now(), { i }, i < 25 ? 1_000 : HOUR));
    }
    await adapter.write('foreign.file', new Uint8Array([1]), { expiresAt: clock.now() - 1 });
    clock.advance(1_000);
    expect(await store.reap()).toEqual({
      scanned: 40,
      removed: 25,
      leftovers: 0,
      setAsideRemoved: 0,
      stopped: false,
    });
    expect(await store.length()).toBe(15);
    expect(await store.get('s30')).toEqual(fastifySession(clock.now() - 1_000, { i: 30 }, HOUR));
    expect(await adapter.read('foreign.file')).not.toBeNull();
  });
});

describe('touch over an adapter that keeps no expiry of its own', () => {
  it('moves the expiry of a live session, keeps its data, and creates nothing', async () => {
    const clock = virtualClock();
    const { stat: _, touch: __, ...reference } = createReferenceAdapter();
    const adapter = { ...reference, capabilities: { nativeExpiry: false } };
    const store = openStore({ adapter, now: clock.now });
    await store.set('live', fastifySession(clock.now(), { views: 2 }, 10_000));
    await store.set('expired', fastifySession(clock.now(), { views: 1 }, 1_000));
    await store.set('destroyed', fastifySession(clock.now(), { views: 1 }, 10_000));
    await store.destroy('destroyed');
    clock.advance(5_000);
    const renewed = fastifySession(clock.now(), {}, 10_000);
    for (const id of ['live', 'expired', 'destroyed', 'missing']) await store.touch(id, renewed);
    expect(await store.get('live')).toEqual(fastifySession(clock.now(), { views: 2 }, 10_000));
    expect(await collect(store.ids())).toEqual(['live']);
    clock.advance(9_999);
    expect(await store.get('live')).not.toBeNull();
  });
});

describe('the reaper', () => {
  it('runs on its own timer and stops on close', async () => {
    const clock = virtualClock();
    const spy = instrument(createMemoryAdapter());
    const store = openStore({ adapter: spy.adapter, now: clock.now, reapInterval: 30 });
    await store.set('old', fastifySession(clock.now(), {}, 1_000));
    clock.advance(1_000);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await spy.inner.read(sessionKey('old'))).toBeNull();
    const listings = spy.calls.list;
    expect(listings).toBeGreaterThan(0);
    await store.close();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(spy.calls.list).toBe(listings);
  });

  it('does not keep the process alive', async () => {
    const script = `
      import { createSessionStore } from '@sessionfs/core';
      import { createMemoryAdapter } from '@sessionfs/adapter-memory';
      createSessionStore({ adapter: createMemoryAdapter(), reapInterval: 60_000 });
      console.log('started');
    `;
    const started = Date.now();
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('started');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('keeps adapter operations within the concurrency bound and the event loop responsive', async () => {
    const clock = virtualClock();
    const spy = instrument(createMemoryAdapter());
    const store = openStore({ adapter: spy.adapter, now: clock.now, concurrency: 4 });
    for (let i = 0; i < 3_000; i += 1)
      await store.set(`s${i}`, fastifySession(clock.now(), {}, 1_000));
    clock.advance(1_000);
    spy.reset();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();
    const result = await store.reap();
    const took = performance.now() - started;
    delay.disable();
    expect(result).toEqual({
      scanned: 3_000,
      removed: 3_000,
      leftovers: 0,
      setAsideRemoved: 0,
      stopped: false,
    });
    expect(spy.maxRunning).toBeLessThanOrEqual(4);
    // One adapter call per session: the delete checks the expiry and removes together.
    expect(spy.calls.delete).toBe(3_000);
    expect(spy.calls.stat).toBe(0);
    // A reaper that ran synchronously through 3,000 sessions would hold the loop for about
    // its whole run; this one lets it turn. Relative to the run, so that a loaded machine
    // (a slower run, a collector's pause) does not fail it.
    expect(delay.max / 1e6).toBeLessThan(Math.max(250, took / 4));
    expect(await collect(store.ids())).toEqual([]);
  });

  it('also clears what interrupted writes left behind, through the adapter', async () => {
    const adapter = createMemoryAdapter();
    const leftover = `${adapter.dir}/.${sessionKey('crashed')}.0123456789abcdef01234567.tmp`;
    const store = openStore({ adapter });
    await store.set('alive', { ok: true });
    adapter.volume.writeFileSync(leftover, 'half a rec');
    // Young temp files may belong to a write under way elsewhere: kept.
    expect((await store.reap()).leftovers).toBe(0);
    expect(adapter.volume.existsSync(leftover)).toBe(true);
    expect(await adapter.cleanup(0)).toBe(1);
    expect(adapter.volume.existsSync(leftover)).toBe(false);
    expect(await store.get('alive')).toEqual({ ok: true });
  });

  it('logs what it removed', async () => {
    const clock = virtualClock();
    const logger = { info: (fields: object) => entries.push(fields), warn() {}, error() {} };
    const entries: object[] = [];
    const store = openStore({ adapter: createMemoryAdapter(), now: clock.now, logger });
    await store.set('a', fastifySession(clock.now(), {}, 10));
    clock.advance(10);
    await store.reap();
    expect(entries).toEqual([expect.objectContaining({ scanned: 1, removed: 1 })]);
  });
});

describe('touch across stores', () => {
  it('moves the expiry of a session another store renewed after this one saw it expire', async () => {
    const clock = virtualClock();
    const adapter = createMemoryAdapter();
    const first = openStore({ adapter, now: clock.now, touchAfter: 0 });
    const second = openStore({ adapter, now: clock.now, touchAfter: 0 });
    await first.set('s', fastifySession(clock.now(), {}, 1));
    await second.set('s', fastifySession(clock.now(), {}, 60_000));
    clock.advance(1);
    // The first store's own record expired; the second's is live, and the touch moves it.
    await first.touch('s', fastifySession(clock.now(), {}, 5_000));
    const session = (await second.get('s')) as { cookie: { expires: string } } | null;
    expect(session?.cookie.expires).toBe(new Date(clock.now() + 5_000).toISOString());
  });
});
