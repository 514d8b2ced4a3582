// Hostile sealed records: an encrypted store over a real directory meets records altered
// by someone who can write the directory but holds no key: cut short, bytes changed, length
// fields huge or false, payloads forged with the right magic and key id. Such a record is
// never served altered (a changed payload never reads back; only the session as written
// does), never throws, and nothing but a record that fails authentication is set aside.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeAdapter, LAYOUT_FILE, type NodeAdapter } from '@sessionfs/adapter-node';
import { createSessionStore, type SessionStore, sessionKey } from '@sessionfs/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingLogger } from './support/logger.js';
import type { SessionData } from './support/model.js';
import { SIZE } from './support/size.js';

const HOUR = 60 * 60 * 1_000;
const KEY = randomBytes(32).toString('hex');
const OLDER_KEY = randomBytes(32).toString('base64');

let root: string;
let adapter: NodeAdapter;
let store: SessionStore<SessionData>;
const log = recordingLogger();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sessionfs-hostile-sealed-'));
  adapter = createNodeAdapter({ dir: join(root, 'sessions') });
  store = createSessionStore({
    adapter,
    reapInterval: false,
    logger: log.logger,
    encryption: { keys: [KEY, OLDER_KEY] },
  });
});
afterAll(async () => {
  await store.close();
  await rm(root, { recursive: true, force: true });
});

/** An alteration of a record, as bytes in and bytes out. */
type Alteration = (record: Buffer) => Buffer;

const newline = (record: Buffer) => record.indexOf(0x0a);

const alteration: fc.Arbitrary<Alteration> = fc.oneof(
  // Cut short anywhere.
  fc.nat().map((at) => (record: Buffer) => record.subarray(0, at % record.byteLength)),
  // Some bytes changed anywhere.
  fc
    .array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 })
    .map((changes) => (record: Buffer) => {
      const altered = Buffer.from(record);
      for (const [at, xor] of changes) {
        const index = at % altered.byteLength;
        altered[index] = (altered[index] as number) ^ xor;
      }
      return altered;
    }),
  // The header's length field: huge, zero, or off by a few, with the payload to match or not.
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom('999999999999999', '18446744073709551616', '0', '-1', '1e9'),
        fc.integer({ min: -4, max: 4 }).map(String),
      ),
      fc.boolean(),
    )
    .map(([length, relative]) => (record: Buffer) => {
      const header = record.subarray(0, newline(record)).toString('latin1').split(' ');
      const stated = Number(header[3]);
      header[3] = relative && /^-?\d$/.test(length) ? String(stated + Number(length)) : length;
      return Buffer.concat([
        Buffer.from(header.join(' '), 'latin1'),
        record.subarray(newline(record)),
      ]);
    }),
  // Bytes appended or the payload replaced by random bytes after the right magic, kind and
  // key id, with a header that states their length.
  fc
    .tuple(fc.uint8Array({ maxLength: 200 }), fc.boolean())
    .map(([bytes, forge]) => (record: Buffer) => {
      const payloadStart = newline(record) + 1;
      const payload = forge
        ? Buffer.concat([record.subarray(payloadStart, payloadStart + 13), bytes])
        : Buffer.concat([record.subarray(payloadStart), bytes]);
      const header = record
        .subarray(0, payloadStart - 1)
        .toString('latin1')
        .split(' ');
      header[3] = String(payload.byteLength);
      return Buffer.concat([Buffer.from(`${header.join(' ')}\n`, 'latin1'), payload]);
    }),
);

describe('hostile sealed records', () => {
  it('an altered record is never served altered, never throws; a changed payload never reads back', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 9 }),
        fc.nat(),
        alteration,
        async (slot, n, alter) => {
          runs += 1;
          const id = `sealed-${slot}`;
          const session = { cookie: { originalMaxAge: HOUR, expires: null }, n, token: 'secret' };
          await store.set(id, session);
          const original = Buffer.from((await adapter.read(sessionKey(id)))?.data ?? []);
          const altered = alter(original);
          await adapter.write(sessionKey(id), altered, { expiresAt: Date.now() + HOUR });
          let read: unknown;
          try {
            read = await store.get(id);
          } catch (error) {
            throw new Error(`get threw on an altered record: ${String(error)}`);
          }
          // Served, it is the session as written, never altered data. (The header's expiry
          // is a copy of the file's own, which the store reads instead: a change to it
          // alone is harmless, and anyone able to write the file can set its time anyway.)
          if (read !== null) expect(read).toEqual(session);
          const payloadOf = (record: Buffer) => record.subarray(newline(record) + 1);
          if (!payloadOf(altered).equals(payloadOf(original))) expect(read).toBeNull();
          if (altered.equals(original)) expect(read).toEqual(session);
          await store.destroy(id);
        },
      ),
      { numRuns: SIZE.hostile.runs },
    );
    expect(runs).toBe(SIZE.hostile.runs);
    // What was set aside failed authentication or was malformed; the other warnings say
    // that records under another key, or plaintext ones, were left alone.
    expect(log.errors).toEqual([]);
    for (const { message, fields } of log.warnings) {
      if (fields.reason === undefined) expect(message).toMatch(/left as they are/);
      else {
        expect(String(fields.reason)).toMatch(
          /authentication|malformed|truncated|no record header|empty record|codec/,
        );
      }
    }
    const left = (await readdir(join(root, 'sessions'))).filter(
      (name) =>
        !name.startsWith('corrupt.') && name !== '.sessionfs-take.lock' && name !== LAYOUT_FILE,
    );
    expect(left).toEqual([]);
  }, 300_000);
});
