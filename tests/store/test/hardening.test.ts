// The hardening of the store: a read never removes or sets aside a record another process
// has just written, records set aside are kept a bounded time and count, logs and errors
// never carry a session id or session data, a touch never revives an expired session,
// and `maxSessions` bounds how many sessions a store holds.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMemoryAdapter } from '@sessionfs/adapter-memory';
import { createReferenceAdapter } from '@sessionfs/adapter-test-suite';
import { type FsAdapter, hasErrorCode, jsonCodec, redactKey, sessionKey } from '@sessionfs/core';
import { describe, expect, it } from 'vitest';
import {
  adapters,
  collect,
  fastifySession,
  HOUR,
  nodeAdapter,
  openStore,
  rejection,
  spyLogger,
  virtualClock,
} from './helpers.js';

const DAY = 24 * HOUR;
/** Ten years: from the virtual clock's 2030, past 2038-01-19, where file times stop. */
const TEN_YEARS = 3_652 * DAY;

type Clock = ReturnType<typeof virtualClock>;
type Backend = [name: string, open: (clock: Clock) => Promise<FsAdapter>];

/** The file adapters, and the reference adapter on the test's clock. */
const backends: Backend[] = [
  ...adapters.map(([name, create]): Backend => [name, () => create()]),
  ['reference', async (clock) => createReferenceAdapter({ now: clock.now })],
];

/**
 * `inner`, where the first `method` call on `key` first runs `before` (another process
 * acting in between), then goes through as it was called.
 */
function actFirst(
  inner: FsAdapter,
  method: 'delete' | 'move',
  key: string,
  before: () => Promise<void>,
) {
  let acted = false;
  const adapter = new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      if (property !== method) return value.bind(target);
      return async (...args: unknown[]) => {
        if (!acted && args[0] === key) {
          acted = true;
          await before();
        }
        return value.apply(target, args);
      };
    },
  });
  return { adapter, acted: () => acted };
}

/** A well-formed record (`sfs1 <expiresAt> - <length> <sha1>\n<payload>`) of any payload. */
function recordOf(payload: string, expiresAt: number): Uint8Array {
  const bytes = Buffer.from(payload);
  const digest = createHash('sha1').update(bytes).digest('base64url');
  return Buffer.concat([Buffer.from(`sfs1 ${expiresAt} - ${bytes.length} ${digest}\n`), bytes]);
}

const asideKeys = (adapter: FsAdapter) => collect(adapter.list('corrupt.'));

describe.each(backends)('over the %s adapter, a read that races another process', (_, open) => {
  const id = 'raced';
  const key = sessionKey(id);

  it('never removes an expired session that was saved anew before the removal', async () => {
    const clock = virtualClock();
    const inner = await open(clock);
    const other = openStore({ adapter: inner, now: clock.now });
    await other.set(id, fastifySession(clock.now(), { user: 'before' }));
    clock.advance(HOUR + 1);
    const renewed = fastifySession(clock.now(), { user: 'after' });
    // Between finding the record expired and removing it, the user logs in again.
    const race = actFirst(inner, 'delete', key, () => other.set(id, renewed));
    const store = openStore({ adapter: race.adapter, now: clock.now });

    expect(await store.get(id)).toBeNull();
    expect(race.acted()).toBe(true);
    expect(await openStore({ adapter: inner, now: clock.now }).get(id)).toEqual(renewed);
    expect(await store.get(id)).toEqual(renewed);
  });

  const corrupt: [string, (clock: Clock) => Uint8Array, number | undefined][] = [
    ['garbage bytes', () => Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0a, 0x42]), undefined],
    [
      'a payload the codec rejects',
      (clock) => recordOf('{not json', clock.now() + HOUR),
      undefined,
    ],
    // Too large to be read: set aside unread.
    [
      'a record over maxRecordBytes',
      (clock) => recordOf('x'.repeat(4_000), clock.now() + HOUR),
      1_000,
    ],
  ];

  it.each(corrupt)(
    'never sets aside a good record written over %s before the move',
    async (_, bytes, maxRecordBytes) => {
      const clock = virtualClock();
      const inner = await open(clock);
      await inner.write(key, bytes(clock), { expiresAt: clock.now() + HOUR });
      const good = fastifySession(clock.now(), { user: 'good' });
      const other = openStore({ adapter: inner, now: clock.now });
      // Between finding the record unreadable and moving it aside, another process saves.
      const race = actFirst(inner, 'move', key, () => other.set(id, good));
      const store = openStore({
        adapter: race.adapter,
        now: clock.now,
        ...(maxRecordBytes === undefined ? {} : { maxRecordBytes }),
      });

      expect(await store.get(id)).toBeNull();
      expect(race.acted()).toBe(true);
      expect(await openStore({ adapter: inner, now: clock.now }).get(id)).toEqual(good);
      expect(await asideKeys(inner)).toEqual([]);
    },
  );
});

describe.each(adapters)('records set aside over the %s adapter', (_, createAdapter) => {
  /** Sets aside, through `store.get`, a corrupt record holding `bytes` under `id`. */
  async function setAside(
    adapter: FsAdapter,
    store: ReturnType<typeof openStore>,
    id: string,
    bytes: string,
  ) {
    await adapter.write(sessionKey(id), Buffer.from(bytes), { expiresAt: Date.UTC(2031, 0, 1) });
    expect(await store.get(id)).toBeNull();
  }

  it('keep their own bytes each when two are set aside in the same millisecond', async () => {
    const clock = virtualClock();
    const adapter = await createAdapter();
    const store = openStore({ adapter, now: clock.now });
    await setAside(adapter, store, 'twice', 'first garbage');
    await setAside(adapter, store, 'twice', 'second garbage');

    const keys = await asideKeys(adapter);
    expect(keys).toHaveLength(2);
    const kept = await Promise.all(
      keys.map(async (key) => Buffer.from((await adapter.read(key))?.data ?? []).toString()),
    );
    expect(kept.sort()).toEqual(['first garbage', 'second garbage']);
  });

  it('are removed by reap() three days after they were set aside, by default', async () => {
    const clock = virtualClock();
    const adapter = await createAdapter();
    const store = openStore({ adapter, now: clock.now });
    await store.set('live', fastifySession(clock.now(), { user: 'ada' }, 10 * DAY));
    await setAside(adapter, store, 'broken', 'garbage');
    await setAside(adapter, store, 'also-broken', 'more garbage');

    clock.advance(3 * DAY - 1);
    expect(await store.reap()).toEqual({
      scanned: 1,
      removed: 0,
      leftovers: 0,
      setAsideRemoved: 0,
      stopped: false,
    });
    expect(await asideKeys(adapter)).toHaveLength(2);

    clock.advance(2);
    expect(await store.reap()).toEqual({
      scanned: 1,
      removed: 0,
      leftovers: 0,
      setAsideRemoved: 2,
      stopped: false,
    });
    expect(await asideKeys(adapter)).toEqual([]);
    // Sessions are not records set aside.
    expect(await store.get('live')).not.toBeNull();
  });

  it('are kept within quarantine.maxRecords, the newest, and quarantine.maxAge', async () => {
    const clock = virtualClock();
    const adapter = await createAdapter();
    const store = openStore({
      adapter,
      now: clock.now,
      quarantine: { maxAge: HOUR, maxRecords: 2 },
    });
    for (const n of [1, 2, 3, 4]) {
      await setAside(adapter, store, `broken-${n}`, `garbage ${n}`);
      clock.advance(1);
    }

    expect(await store.reap()).toMatchObject({ setAsideRemoved: 2 });
    const keys = await asideKeys(adapter);
    const kept = await Promise.all(
      keys.map(async (key) => Buffer.from((await adapter.read(key))?.data ?? []).toString()),
    );
    expect(kept.sort()).toEqual(['garbage 3', 'garbage 4']);

    clock.advance(HOUR);
    expect(await store.reap()).toMatchObject({ setAsideRemoved: 2 });
    expect(await asideKeys(adapter)).toEqual([]);
  });
});

describe('records set aside, by default', () => {
  it('are kept at most 1,000, the newest', async () => {
    const clock = virtualClock();
    const adapter = createMemoryAdapter();
    const store = openStore({ adapter, now: clock.now });
    for (let n = 0; n < 1_001; n += 1) {
      await adapter.write(sessionKey(`broken-${n}`), Buffer.from(`garbage ${n}`));
      expect(await store.get(`broken-${n}`)).toBeNull();
      clock.advance(1);
    }
    expect(await asideKeys(adapter)).toHaveLength(1_001);

    expect(await store.reap()).toMatchObject({ setAsideRemoved: 1 });
    const keys = await asideKeys(adapter);
    expect(keys).toHaveLength(1_000);
    const kept = new Set(
      await Promise.all(
        keys.map(async (key) => Buffer.from((await adapter.read(key))?.data ?? []).toString()),
      ),
    );
    expect(kept.has('garbage 0')).toBe(false);
    expect(kept.has('garbage 1000')).toBe(true);
  });
});

describe('logs and errors', () => {
  // Longer than 12 characters: its key is shortened in logs.
  const id = 'a-long-session-id-0123456789abcdef';
  const key = sessionKey(id);
  const SECRET = 's3cr3t-42';
  /** What must never reach a log line or an error: the id, in any spelling, and its data. */
  const forbidden = [id, key, key.slice('s.'.length), SECRET];

  /** JSON of a value, errors included with their message, stack, fields and causes. */
  function dump(value: unknown): string {
    return JSON.stringify(value, (_, field: unknown) => {
      if (field instanceof Error) {
        return {
          ...field,
          name: field.name,
          message: field.message,
          stack: field.stack,
          cause: field.cause,
        };
      }
      if (field instanceof Uint8Array) return Buffer.from(field).toString('latin1');
      return field;
    });
  }

  /** Every line logged, at every level. */
  function lines(logger: ReturnType<typeof spyLogger>): string[] {
    return (['debug', 'info', 'warn', 'error'] as const).flatMap((level) =>
      logger[level].mock.calls.map((call) => `${level} ${dump(call)}`),
    );
  }

  function expectNothingSecret(texts: string[]) {
    for (const text of texts) {
      for (const secret of forbidden) expect(text).not.toContain(secret);
    }
  }

  it.each(adapters)(
    'name a corrupt record by its shortened key only, over the %s adapter',
    async (_, createAdapter) => {
      const adapter = await createAdapter();
      const logger = spyLogger();
      const store = openStore({ adapter, logger });
      // A whole record whose payload JSON.parse rejects, quoting the secret in its message.
      const payload = `{"user":"ada","token":${SECRET}}`;
      expect(() => JSON.parse(payload)).toThrow(SECRET);
      await adapter.write(key, recordOf(payload, Date.now() + HOUR), {
        expiresAt: Date.now() + HOUR,
      });

      expect(await store.get(id)).toBeNull();
      const [aside] = await asideKeys(adapter);
      expect(logger.warn).toHaveBeenCalledTimes(1);
      expect(logger.warn.mock.calls[0]?.[0]).toEqual({
        key: redactKey(key),
        setAsideAs: redactKey(aside ?? ''),
        reason: expect.stringContaining('SyntaxError'),
      });
      expectNothingSecret(lines(logger));
    },
  );

  it("never log a codec error's message, which may quote the record", async () => {
    const adapter = createMemoryAdapter();
    await openStore({ adapter }).set(id, { user: 'ada', token: SECRET });
    const logger = spyLogger();
    const store = openStore({
      adapter,
      logger,
      codec: {
        encode: jsonCodec.encode,
        decode(data) {
          throw new RangeError(`cannot decode ${Buffer.from(data).toString()}`);
        },
      },
    });

    expect(await store.get(id)).toBeNull();
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]?.[0]).toMatchObject({
      key: redactKey(key),
      reason: expect.stringContaining('RangeError'),
    });
    expectNothingSecret(lines(logger));
  });

  it('name the record by its shortened key in an ERR_TOO_LARGE from touch', async () => {
    const clock = virtualClock();
    const adapter = await nodeAdapter();
    const logger = spyLogger();
    const store = openStore({ adapter, logger, now: clock.now, maxRecordBytes: 1_000 });
    // Past 2038: file times cannot hold it, so touch reads the record to rewrite it.
    await store.set(id, fastifySession(clock.now(), { user: 'ada' }, TEN_YEARS));
    await writeFile(join(adapter.dir, key), `${SECRET} `.repeat(1_000));

    const error = await rejection(
      store.touch(id, fastifySession(clock.now(), { user: 'ada' }, TEN_YEARS + DAY)),
    );
    expect(hasErrorCode(error, 'ERR_TOO_LARGE')).toBe(true);
    const chain: string[] = [];
    for (let cause = error; cause instanceof Error; cause = cause.cause) {
      chain.push(cause.message, cause.stack ?? '', dump(cause));
    }
    expectNothingSecret(chain);
    expect(chain.some((text) => text.includes(redactKey(key)))).toBe(true);
    expectNothingSecret(lines(logger));
  });
});

describe.each(backends)('a touch over the %s adapter', (_, open) => {
  const id = 'shortened';

  it('never revives a session another store let expire, whatever this store remembers', async () => {
    const clock = virtualClock();
    const adapter = await open(clock);
    const a = openStore({ adapter, now: clock.now });
    const b = openStore({ adapter, now: clock.now });
    // Ten years: over the file adapters, past what file times hold (2038).
    await a.set(id, fastifySession(clock.now(), { user: 'ada' }, TEN_YEARS));
    await b.touch(id, { cookie: { originalMaxAge: 1 } });
    clock.advance(1);
    await a.touch(id, {});

    expect(await a.get(id)).toBeNull();
    expect(await openStore({ adapter, now: clock.now }).get(id)).toBeNull();
  });

  it.each([
    ['an hour', HOUR],
    ['ten years', TEN_YEARS],
  ])(
    'does not let a save of an unchanged session (%s) be skipped once another store expired it',
    async (_, lifetime) => {
      const clock = virtualClock();
      const adapter = await open(clock);
      const a = openStore({ adapter, now: clock.now });
      const b = openStore({ adapter, now: clock.now });
      const session = fastifySession(clock.now(), { user: 'ada' }, lifetime);
      await a.set(id, session);
      await b.touch(id, fastifySession(clock.now(), { user: 'ada' }, 1));
      clock.advance(1);

      // Same content, same expiry as `a` knows: it must be written again all the same.
      await a.set(id, session);
      expect(await a.get(id)).toEqual(session);
      expect(await openStore({ adapter, now: clock.now }).get(id)).toEqual(session);
    },
  );
});

describe.each(adapters)('maxSessions over the %s adapter', (_, createAdapter) => {
  const session = (clock: Clock, data: Record<string, unknown> = {}) =>
    fastifySession(clock.now(), data);

  it('refuses a new session beyond the bound, saves stored ones, and makes room on destroy', async () => {
    const clock = virtualClock();
    const store = openStore({ adapter: await createAdapter(), now: clock.now, maxSessions: 2 });
    await store.set('a', session(clock, { n: 1 }));
    await store.set('b', session(clock));

    const refused = await rejection(store.set('c', session(clock)));
    expect(hasErrorCode(refused, 'ERR_QUOTA_EXCEEDED')).toBe(true);
    expect(await store.get('c')).toBeNull();
    expect(await store.length()).toBe(2);

    // A session already stored is always saved again.
    await store.set('a', session(clock, { n: 2 }));
    expect(await store.get('a')).toEqual(session(clock, { n: 2 }));

    await store.destroy('b');
    await store.set('c', session(clock));
    expect(await store.get('c')).toEqual(session(clock));
    expect(
      hasErrorCode(await rejection(store.set('d', session(clock))), 'ERR_QUOTA_EXCEEDED'),
    ).toBe(true);
  });

  it('saves again a session another store created, when full', async () => {
    const clock = virtualClock();
    const adapter = await createAdapter();
    await openStore({ adapter, now: clock.now }).set('theirs', session(clock, { n: 1 }));
    const store = openStore({ adapter, now: clock.now, maxSessions: 1 });

    await store.set('theirs', session(clock, { n: 2 }));
    expect(await store.get('theirs')).toEqual(session(clock, { n: 2 }));
    expect(
      hasErrorCode(await rejection(store.set('mine', session(clock))), 'ERR_QUOTA_EXCEEDED'),
    ).toBe(true);
  });

  it.each([
    [
      'a minute later',
      async (_store: ReturnType<typeof openStore>, clock: Clock) => clock.advance(60_001),
    ],
    ['after a reap', async (store: ReturnType<typeof openStore>) => void (await store.reap())],
  ])('counts the sessions another store created %s', async (_, recount) => {
    const clock = virtualClock();
    const adapter = await createAdapter();
    const store = openStore({ adapter, now: clock.now, maxSessions: 3 });
    await store.set('mine', session(clock));
    const other = openStore({ adapter, now: clock.now });
    await other.set('theirs-1', session(clock));
    await other.set('theirs-2', session(clock));

    await recount(store, clock);
    const refused = await rejection(store.set('new', session(clock)));
    expect(hasErrorCode(refused, 'ERR_QUOTA_EXCEEDED')).toBe(true);
    expect(await store.get('new')).toBeNull();
  });
});
