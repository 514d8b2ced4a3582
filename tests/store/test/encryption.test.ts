// Encryption at rest: what a store with `encryption` writes, what it reads, and what it
// does with records it cannot read (another key, plaintext, tampered bytes).
import { randomBytes } from 'node:crypto';
import type { FsAdapter, SessionStoreOptions } from '@sessionfs/core';
import { ErrorCodes, hasErrorCode, sessionKey } from '@sessionfs/core';
import { describe, expect, it } from 'vitest';
import {
  adapters,
  fastifySession,
  nodeAdapter,
  openStore,
  rejection,
  spyLogger,
  storeProcess,
  virtualClock,
  withCheapWrites,
} from './helpers.js';

const randomKey = () => randomBytes(32).toString('hex');
const SECRET = 'a-user-token-nobody-may-read';

/** The record of `id` as the adapter holds it. */
async function recordOf(adapter: FsAdapter, id: string): Promise<Buffer> {
  const value = await adapter.read(sessionKey(id));
  if (value === null) throw new Error(`no record for ${id}`);
  return Buffer.from(value.data);
}

const headerOf = (record: Buffer) => record.subarray(0, record.indexOf(0x0a)).toString('latin1');
const payloadOf = (record: Buffer) => record.subarray(record.indexOf(0x0a) + 1);
/** The key id a sealed payload names (its bytes 5 to 13). */
const keyIdOf = (record: Buffer) => payloadOf(record).subarray(5, 13).toString('hex');

/** Keys outside the session prefix: records set aside. */
async function setAsideKeys(adapter: FsAdapter): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of adapter.list('')) if (!key.startsWith('s.')) keys.push(key);
  return keys;
}

const memoryWithCheapWrites = async () =>
  withCheapWrites(await (adapters[0] as (typeof adapters)[number])[1]());

describe.each([...adapters, ['memory, cheapWrites', memoryWithCheapWrites] as const])(
  'encryption over the %s adapter',
  (_, createAdapter) => {
    const setUp = async () => {
      const clock = virtualClock();
      const adapter = await createAdapter();
      const logger = spyLogger();
      const open = (options: Partial<SessionStoreOptions> = {}) =>
        openStore({ adapter, now: clock.now, logger, ...options });
      return { clock, adapter, logger, open };
    };

    it('writes nothing of the session in the clear, no digest of it, and reads it back', async () => {
      const { clock, adapter, open } = await setUp();
      const key = randomKey();
      const store = open({ encryption: { keys: [key] } });
      const session = fastifySession(clock.now(), { token: SECRET });
      await store.set('s1', session);
      const record = await recordOf(adapter, 's1');
      expect(record.includes(SECRET)).toBe(false);
      expect(record.includes('cookie')).toBe(false);
      // A digest of the plaintext in the header would confirm a guess of the session.
      expect(headerOf(record).split(' ')[4]).toBe('-');
      expect(payloadOf(record).subarray(0, 4).toString('latin1')).toBe('sfe1');
      expect(await store.get('s1')).toEqual(session);
      // A store with no memory of the write reads it too, given the key in base64.
      const again = open({ encryption: { keys: [Buffer.from(key, 'hex').toString('base64')] } });
      expect(await again.get('s1')).toEqual(session);
    });

    it('with the cache on, keeps the plaintext it wrote and read, and serves it until the record changes', async () => {
      const { clock, adapter, open } = await setUp();
      const key = randomKey();
      const cached = open({ encryption: { keys: [key] }, cache: { mode: 'shared' } });
      const other = open({ encryption: { keys: [key] } });
      await cached.set('s1', fastifySession(clock.now(), { n: 1, token: SECRET }));
      expect((await cached.get('s1'))?.token).toBe(SECRET);
      await other.set('s1', fastifySession(clock.now(), { n: 2 }));
      expect((await cached.get('s1'))?.n).toBe(2);
      expect((await cached.get('s1'))?.n).toBe(2);
      expect((await recordOf(adapter, 's1')).includes(SECRET)).toBe(false);
    });

    it('saves an unchanged session as it does without encryption: no rewrite where it moves the expiry', async () => {
      const { clock, adapter, open } = await setUp();
      const store = open({ encryption: { keys: [randomKey()] } });
      await store.set('s1', fastifySession(clock.now(), { n: 1 }));
      const first = payloadOf(await recordOf(adapter, 's1'));
      clock.advance(1_000);
      await store.set('s1', fastifySession(clock.now(), { n: 1 }));
      const second = payloadOf(await recordOf(adapter, 's1'));
      // Sealed again, the payload would differ (a fresh nonce); an adapter with cheap
      // writes writes every save, as without encryption.
      expect(second.equals(first)).toBe(!adapter.capabilities.cheapWrites);
      expect((await store.get('s1'))?.n).toBe(1);
    });

    it('rotates: reads under any listed key, rewrites under the first on the next save', async () => {
      const { clock, adapter, open } = await setUp();
      const [oldKey, newerKey] = [randomKey(), randomKey()];
      const before = open({ encryption: { keys: [oldKey] } });
      await before.set('s1', fastifySession(clock.now(), { n: 1 }));
      const oldId = keyIdOf(await recordOf(adapter, 's1'));

      const rotated = open({ encryption: { keys: [newerKey, oldKey] } });
      const session = await rotated.get('s1');
      expect(session?.n).toBe(1);
      // Unchanged, yet written again: under the first key.
      await rotated.set('s1', session as Record<string, unknown>);
      const newId = keyIdOf(await recordOf(adapter, 's1'));
      expect(newId).not.toBe(oldId);
      // The old key can go: a store with the new key alone reads it.
      expect((await open({ encryption: { keys: [newerKey] } }).get('s1'))?.n).toBe(1);
      expect(await open({ encryption: { keys: [oldKey] } }).get('s1')).toBeNull();
    });

    it('leaves a record under a key it does not have where it is, reads it as missing, and says the keys are likely wrong', async () => {
      const { clock, adapter, logger, open } = await setUp();
      const rightKey = randomKey();
      const writer = open({ encryption: { keys: [rightKey] } });
      for (const id of ['a', 'b', 'c']) await writer.set(id, fastifySession(clock.now(), { id }));
      const before = await recordOf(adapter, 'a');

      const wrong = open({ encryption: { keys: [randomKey()] } });
      for (const id of ['a', 'b', 'c']) expect(await wrong.get(id)).toBeNull();
      expect((await recordOf(adapter, 'a')).equals(before)).toBe(true);
      expect(await setAsideKeys(adapter)).toEqual([]);
      expect(logger.warn).toHaveBeenCalledTimes(1);
      expect(String(logger.warn.mock.calls[0]?.[1])).toMatch(/keys are likely wrong/);

      // Restarted with the right key, nothing was lost.
      const right = open({ encryption: { keys: [rightKey] } });
      for (const id of ['a', 'b', 'c']) expect((await right.get(id))?.id).toBe(id);
    });

    it('sets aside a record that fails authentication, whatever byte of its payload changed', async () => {
      const { clock, adapter, logger, open } = await setUp();
      const store = open({ encryption: { keys: [randomKey()] } });
      await store.set('s1', fastifySession(clock.now(), { token: SECRET }));
      const record = await recordOf(adapter, 's1');
      const payloadStart = record.indexOf(0x0a) + 1;
      const write = async (index: number) => {
        const bytes = Buffer.from(record);
        bytes[index] = (bytes[index] as number) ^ 0x01;
        await adapter.write(sessionKey('s1'), bytes, { expiresAt: clock.now() + 60_000 });
      };
      // The magic, the kind and the key id name another format or key: such a record
      // reads as missing and stays (see above).
      for (let index = payloadStart; index < payloadStart + 13; index += 1) {
        await write(index);
        expect(await store.get('s1'), `byte ${index - payloadStart}`).toBeNull();
      }
      expect(await setAsideKeys(adapter)).toEqual([]);
      // A changed nonce, ciphertext or tag fails authentication.
      let tampered = 0;
      for (let index = payloadStart + 13; index < record.byteLength; index += 1) {
        tampered += 1;
        await write(index);
        expect(await store.get('s1'), `byte ${index - payloadStart}`).toBeNull();
      }
      // Each one set aside, none left to read again.
      expect(await setAsideKeys(adapter)).toHaveLength(tampered);
      expect(
        logger.warn.mock.calls.some(
          ([fields]) => (fields as { reason?: string }).reason === 'record fails authentication',
        ),
      ).toBe(true);
    });

    it('does not open a record copied under another session name, nor one whose cookie flag changed', async () => {
      const { clock, adapter, open } = await setUp();
      const store = open({ encryption: { keys: [randomKey()] } });
      await store.set('victim', fastifySession(clock.now(), { role: 'admin' }));
      const record = await recordOf(adapter, 'victim');
      await adapter.write(sessionKey('attacker'), record, { expiresAt: clock.now() + 60_000 });
      expect(await store.get('attacker')).toBeNull();

      // The header's `e` flag (cookie.expires restored from the expiry) is authenticated.
      const header = headerOf(record);
      const flipped = Buffer.concat([
        Buffer.from(header.replace(/^(sfs1 \d+ )e/, '$1-'), 'latin1'),
        record.subarray(header.length),
      ]);
      expect(flipped.equals(record)).toBe(false);
      await adapter.write(sessionKey('victim'), flipped, { expiresAt: clock.now() + 60_000 });
      expect(await store.get('victim')).toBeNull();
    });

    it('reads plaintext records only with acceptPlaintext, and seals them on their next save', async () => {
      const { clock, adapter, logger, open } = await setUp();
      const plain = open();
      await plain.set('old', fastifySession(clock.now(), { token: SECRET }));
      const key = randomKey();

      const strict = open({ encryption: { keys: [key] } });
      expect(await strict.get('old')).toBeNull();
      expect((await recordOf(adapter, 'old')).includes(SECRET)).toBe(true);
      expect(String(logger.warn.mock.calls.at(-1)?.[1])).toMatch(/acceptPlaintext/);

      const migrating = open({ encryption: { keys: [key], acceptPlaintext: true } });
      const session = await migrating.get('old');
      expect(session?.token).toBe(SECRET);
      await migrating.set('old', session as Record<string, unknown>);
      expect((await recordOf(adapter, 'old')).includes(SECRET)).toBe(false);
      expect((await strict.get('old'))?.token).toBe(SECRET);
    });

    it('a store without encryption leaves sealed records alone and reads them as missing', async () => {
      const { clock, adapter, logger, open } = await setUp();
      await open({ encryption: { keys: [randomKey()] } }).set('s1', fastifySession(clock.now()));
      const before = await recordOf(adapter, 's1');
      expect(await open().get('s1')).toBeNull();
      expect((await recordOf(adapter, 's1')).equals(before)).toBe(true);
      expect(await setAsideKeys(adapter)).toEqual([]);
      expect(String(logger.warn.mock.calls.at(-1)?.[1])).toMatch(/no `encryption` keys/);
    });

    it('stretches a passphrase with a salt per store: another store with the passphrase reads, rotation to a key works', async () => {
      const { clock, adapter, open } = await setUp();
      const passphrase = { passphrase: 'correct horse battery staple' };
      const first = open({ encryption: { keys: [passphrase] } });
      await first.set('s1', fastifySession(clock.now(), { n: 1 }));
      const second = open({ encryption: { keys: [passphrase] } });
      await second.set('s2', fastifySession(clock.now(), { n: 2 }));
      // Two stores, two salts: each reads the other's records.
      const saltOf = (record: Buffer) => payloadOf(record).subarray(13, 29).toString('hex');
      expect(saltOf(await recordOf(adapter, 's1'))).not.toBe(saltOf(await recordOf(adapter, 's2')));
      expect((await second.get('s1'))?.n).toBe(1);
      expect((await first.get('s2'))?.n).toBe(2);
      expect(
        await open({ encryption: { keys: [{ passphrase: 'another long passphrase' }] } }).get('s1'),
      ).toBeNull();

      const key = randomKey();
      const rotated = open({ encryption: { keys: [key, passphrase] } });
      await rotated.set('s1', (await rotated.get('s1')) as Record<string, unknown>);
      expect((await open({ encryption: { keys: [key] } }).get('s1'))?.n).toBe(1);
    });

    it('counts the sealing in maxRecordBytes: a session that fits only unsealed is refused, the previous kept', async () => {
      const { clock, open } = await setUp();
      const maxRecordBytes = 4_096;
      const plain = open({ maxRecordBytes });
      const sealed = open({ maxRecordBytes, encryption: { keys: [randomKey()] } });
      // The largest session the plain store takes.
      let size = 3_000;
      for (;;) {
        const session = fastifySession(clock.now(), { pad: 'x'.repeat(size + 1) });
        const refused = await rejection(plain.set('probe', session)).catch(() => undefined);
        if (hasErrorCode(refused, ErrorCodes.TOO_LARGE)) break;
        size += 1;
      }
      await sealed.set('s1', fastifySession(clock.now(), { pad: 'small' }));
      const error = await rejection(
        sealed.set('s1', fastifySession(clock.now(), { pad: 'x'.repeat(size) })),
      );
      expect(hasErrorCode(error, ErrorCodes.TOO_LARGE)).toBe(true);
      expect((await sealed.get('s1'))?.pad).toBe('small');
    });
  },
);

describe('encryption options', () => {
  it.each([
    ['no keys', { keys: [] }],
    ['a short key', { keys: ['abcd'] }],
    ['a key of 31 bytes', { keys: [randomBytes(31).toString('hex')] }],
    ['a short passphrase', { keys: [{ passphrase: 'hunter2' }] }],
    ['the same key twice', { keys: ['ab'.repeat(32), 'ab'.repeat(32)] }],
    ['keys that are not a list', { keys: 'ab'.repeat(32) }],
  ])(
    'refuses %s with ERR_INVALID_OPTION, naming the option but never the key',
    async (_, encryption) => {
      const { createMemoryAdapter } = await import('@sessionfs/adapter-memory');
      let error: unknown;
      try {
        openStore({ adapter: createMemoryAdapter(), encryption: encryption as never });
      } catch (thrown) {
        error = thrown;
      }
      expect(hasErrorCode(error, ErrorCodes.INVALID_OPTION)).toBe(true);
      expect((error as Error).message).toContain('encryption');
      expect((error as Error).message).not.toContain('abab');
    },
  );

  it('accepts keys in hex (either case), base64 and base64url, and passphrases of 12 characters', async () => {
    const { createMemoryAdapter } = await import('@sessionfs/adapter-memory');
    const key = randomBytes(32);
    for (const text of [
      key.toString('hex'),
      key.toString('hex').toUpperCase(),
      key.toString('base64'),
      key.toString('base64url'),
      { passphrase: 'twelve chars' },
    ]) {
      expect(() =>
        openStore({ adapter: createMemoryAdapter(), encryption: { keys: [text] } }),
      ).not.toThrow();
    }
  });
});

describe('key rotation across two processes over one directory', () => {
  it('follows the documented steps without a session lost or unreadable on either side', async () => {
    const adapter = await nodeAdapter();
    const [oldKey, newKey] = [randomKey(), randomKey()];
    const session = (views: number) => ({ cookie: { originalMaxAge: 3_600_000 }, views });
    const here = (keys: string[]) => openStore({ adapter, encryption: { keys } });
    const keyIdIn = async (id: string) => keyIdOf(await recordOf(adapter, id));

    // Before: both processes on the old key.
    let there = storeProcess(adapter.dir, 'none', { keys: [oldKey] });
    try {
      await here([oldKey]).set('a', session(1));
      const oldId = await keyIdIn('a');
      expect((await there.send({ op: 'get', id: 'a' })).result).toMatchObject({ views: 1 });

      // 1. Accept the new key: this process first, the other still on the old key alone.
      const accepting = here([oldKey, newKey]);
      await accepting.set('b', session(1));
      expect(await keyIdIn('b')).toBe(oldId);
      expect((await there.send({ op: 'get', id: 'b' })).result).toMatchObject({ views: 1 });
      await there.stop();
      there = storeProcess(adapter.dir, 'none', { keys: [oldKey, newKey] });

      // 2. Write with it: the other process first, this one still writing the old key.
      await there.stop();
      there = storeProcess(adapter.dir, 'none', { keys: [newKey, oldKey] });
      expect((await there.send({ op: 'set', id: 'c', session: session(1) })).ok).toBe(true);
      const newId = await keyIdIn('c');
      expect(newId).not.toBe(oldId);
      expect((await accepting.get('c'))?.views).toBe(1);
      await accepting.set('c', session(2));
      expect(await keyIdIn('c')).toBe(oldId);
      expect((await there.send({ op: 'get', id: 'c' })).result).toMatchObject({ views: 2 });
      // Read under the old key, saved unchanged: written under the new one.
      const a = (await there.send({ op: 'get', id: 'a' })).result;
      expect((await there.send({ op: 'set', id: 'a', session: a })).ok).toBe(true);
      expect(await keyIdIn('a')).toBe(newId);

      // Then this process too; every session saved again is under the new key.
      const writing = here([newKey, oldKey]);
      for (const id of ['b', 'c']) {
        await writing.set(id, (await writing.get(id)) as Record<string, unknown>);
        expect(await keyIdIn(id)).toBe(newId);
      }

      // 3. Drop the old key: nothing is lost.
      await there.stop();
      there = storeProcess(adapter.dir, 'none', { keys: [newKey] });
      const dropped = here([newKey]);
      for (const id of ['a', 'b', 'c']) {
        expect((await dropped.get(id))?.views, id).toBeGreaterThan(0);
        expect((await there.send({ op: 'get', id })).result, id).not.toBeNull();
      }
    } finally {
      await there.stop();
    }
  });

  it('without step 1, a process with only the old key reads new sessions as missing and leaves them', async () => {
    const adapter = await nodeAdapter();
    const [oldKey, newKey] = [randomKey(), randomKey()];
    const there = storeProcess(adapter.dir, 'none', { keys: [newKey, oldKey] });
    try {
      expect((await there.send({ op: 'set', id: 'n', session: { views: 1 } })).ok).toBe(true);
      const before = await recordOf(adapter, 'n');
      expect(await openStore({ adapter, encryption: { keys: [oldKey] } }).get('n')).toBeNull();
      expect((await recordOf(adapter, 'n')).equals(before)).toBe(true);
      expect((await there.send({ op: 'get', id: 'n' })).result).toEqual({ views: 1 });
    } finally {
      await there.stop();
    }
  });
});

describe.each(adapters)('rekey over the %s adapter', (_, createAdapter) => {
  const seed = async (count: number, keys: string[]) => {
    const clock = virtualClock();
    const adapter = await createAdapter();
    const writer = openStore({ adapter, now: clock.now, encryption: { keys } });
    for (let n = 0; n < count; n += 1) {
      await writer.set(`s${n}`, fastifySession(clock.now(), { n }));
    }
    return { clock, adapter };
  };

  it('seals every session again with the current key; then the old key can go', async () => {
    const [oldKey, currentKey] = [randomKey(), randomKey()];
    const { clock, adapter } = await seed(30, [oldKey]);
    const store = openStore({
      adapter,
      now: clock.now,
      encryption: { keys: [currentKey, oldKey] },
    });
    await store.set('fresh', fastifySession(clock.now(), { n: -1 }));
    const progress: number[] = [];
    const result = await store.rekey({ onProgress: ({ scanned }) => progress.push(scanned) });
    // A listing may yield a record replaced during the run once more (memfs does): it is
    // then found current.
    expect(result).toMatchObject({ rekeyed: 30, skipped: 0, failed: 0, stopped: false });
    expect(result.current).toBeGreaterThanOrEqual(1);
    expect(result.scanned).toBe(result.rekeyed + result.current);
    expect(progress.at(-1)).toBe(result.scanned);
    const after = openStore({ adapter, now: clock.now, encryption: { keys: [currentKey] } });
    for (let n = 0; n < 30; n += 1) expect((await after.get(`s${n}`))?.n).toBe(n);
    // A second run finds nothing to do.
    expect(await store.rekey()).toMatchObject({ rekeyed: 0, current: 31 });
  });

  it('never overwrites a save that lands while a session is re-sealed', async () => {
    const [oldKey, currentKey] = [randomKey(), randomKey()];
    const { clock, adapter } = await seed(1, [oldKey]);
    const other = openStore({ adapter, now: clock.now, encryption: { keys: [oldKey] } });
    // Between the rekey's read and its write, another process saves the session.
    const racing: FsAdapter = Object.create(adapter, {
      replace: {
        value: async (...args: Parameters<NonNullable<FsAdapter['replace']>>) => {
          await other.set('s0', fastifySession(clock.now(), { n: 'saved meanwhile' }));
          return adapter.replace?.(...args);
        },
      },
    });
    const store = openStore({
      adapter: racing,
      now: clock.now,
      encryption: { keys: [currentKey, oldKey] },
    });
    expect(await store.rekey()).toMatchObject({ rekeyed: 0, skipped: 1 });
    expect((await store.get('s0'))?.n).toBe('saved meanwhile');
  });

  it('stops when asked and goes on from there in the next run', async () => {
    const [oldKey, currentKey] = [randomKey(), randomKey()];
    const { clock, adapter } = await seed(40, [oldKey]);
    const stop = new AbortController();
    let replaced = 0;
    const counting: FsAdapter = Object.create(adapter, {
      replace: {
        value: async (...args: Parameters<NonNullable<FsAdapter['replace']>>) => {
          replaced += 1;
          if (replaced === 10) stop.abort();
          return adapter.replace?.(...args);
        },
      },
    });
    const store = openStore({
      adapter: counting,
      now: clock.now,
      encryption: { keys: [currentKey, oldKey] },
    });
    const first = await store.rekey({ signal: stop.signal });
    expect(first.stopped).toBe(true);
    // The records under way when it was asked to stop finish: at most `concurrency` more.
    expect(first.rekeyed).toBeGreaterThanOrEqual(10);
    expect(first.rekeyed).toBeLessThanOrEqual(14);
    const second = await store.rekey();
    expect(second.stopped).toBe(false);
    expect(second.rekeyed).toBe(40 - first.rekeyed);
    expect(second.current).toBeGreaterThanOrEqual(first.rekeyed);
  });

  it('leaves alone what it cannot read and what expired', async () => {
    const [foreignKey, oldKey, currentKey] = [randomKey(), randomKey(), randomKey()];
    const { clock, adapter } = await seed(2, [oldKey]);
    await openStore({ adapter, now: clock.now, encryption: { keys: [foreignKey] } }).set(
      'foreign',
      fastifySession(clock.now()),
    );
    await openStore({ adapter, now: clock.now, encryption: { keys: [oldKey] } }).set(
      'short',
      fastifySession(clock.now(), {}, 1_000),
    );
    const foreign = await recordOf(adapter, 'foreign');
    clock.advance(2_000);
    const store = openStore({
      adapter,
      now: clock.now,
      encryption: { keys: [currentKey, oldKey] },
    });
    expect(await store.rekey()).toMatchObject({ rekeyed: 2, skipped: 2, failed: 0 });
    expect((await recordOf(adapter, 'foreign')).equals(foreign)).toBe(true);
  });

  it('refuses without encryption, or over an adapter without replace', async () => {
    const adapter = await createAdapter();
    const plain = openStore({ adapter });
    expect(hasErrorCode(await rejection(plain.rekey()), ErrorCodes.INVALID_OPTION)).toBe(true);
    const noReplace: FsAdapter = Object.create(adapter, { replace: { value: undefined } });
    const store = openStore({ adapter: noReplace, encryption: { keys: [randomKey()] } });
    expect(hasErrorCode(await rejection(store.rekey()), ErrorCodes.INVALID_OPTION)).toBe(true);
  });
});
