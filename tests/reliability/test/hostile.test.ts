// Hostile input: arbitrary session ids (unicode, separators, NUL, dots, very long) and
// arbitrary session values (deep nesting, huge strings, prototype-pollution keys, odd
// cookies), through a store on the node adapter over a real directory. Nothing may land
// outside the directory, crash, pollute prototypes, or read back other than written.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeAdapter, LAYOUT_FILE } from '@sessionfs/adapter-node';
import {
  createSessionStore,
  ErrorCodes,
  MAX_ID_BYTES,
  MAX_SPELLED_ID_BYTES,
  type SessionStore,
  SessionStoreError,
} from '@sessionfs/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingLogger } from './support/logger.js';
import { jsonRoundTrip, type SessionData, VirtualClock } from './support/model.js';
import { collect } from './support/operations.js';
import { SIZE } from './support/size.js';

const HOUR = 60 * 60 * 1_000;
const MAX_RECORD_BYTES = 1024 * 1024;
/** The room the store's record header may take besides the encoded session. */
const HEADER_ROOM = 96;

const keyish = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'toJSON',
    '__defineGetter__',
    '',
  ),
);

/** JSON values with hostile keys and binary strings (lone surrogates included). */
const { value: jsonish } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(keyish, tie('value'), { maxKeys: 4 }),
  ),
}));

/**
 * How many levels of one-element arrays (or of objects holding only an own `__proto__`)
 * lead down to 'bottom' in `value`, without recursion; -1 if the shape is anything else.
 */
function nestingOf(value: unknown, inObjects: boolean): number {
  let depth = 0;
  let level = value;
  while (level !== 'bottom') {
    if (inObjects) {
      if (typeof level !== 'object' || level === null || Array.isArray(level)) return -1;
      if (Object.getPrototypeOf(level) !== Object.prototype) return -1;
      const keys = Object.keys(level);
      if (keys.length !== 1 || keys[0] !== '__proto__') return -1;
      level = Object.getOwnPropertyDescriptor(level, '__proto__')?.value;
    } else {
      if (!Array.isArray(level) || level.length !== 1) return -1;
      level = level[0];
    }
    depth += 1;
  }
  return depth;
}

/** `depth` levels of arrays, or of objects under an own `__proto__` key, one inside the other. */
function nested(depth: number, inObjects: boolean): unknown {
  let value: unknown = 'bottom';
  // A computed key defines an own property; a literal `__proto__:` would set the prototype.
  for (let level = 0; level < depth; level += 1)
    value = inObjects ? { ['__proto__']: value } : [value];
  return value;
}

/** How deep JSON.stringify goes from this module's stack (about 4,100 levels on Node 20). */
function stringifyDepthHere(): number {
  let encodes = 1;
  let refuses = 200_000;
  while (refuses - encodes > 1) {
    const depth = Math.floor((encodes + refuses) / 2);
    try {
      JSON.stringify(nested(depth, false));
      encodes = depth;
    } catch {
      refuses = depth;
    }
  }
  return encodes;
}

/**
 * Where JSON.stringify gives up depends on how much stack its caller has used, so the
 * store (deeper in the stack than this test) may refuse a value the test can encode. Within
 * this many levels of the limit, either answer is right: the property draws its depths
 * outside this band, and 'nesting near the limit' below checks inside it.
 */
const STACK_BAND = 500;
const STRINGIFY_DEPTH = stringifyDepthHere();

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: jsonish },
  // Well within what JSON.stringify encodes, and deeper than it goes.
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc.integer({ min: 1, max: STRINGIFY_DEPTH - STACK_BAND }),
          fc.integer({ min: STRINGIFY_DEPTH + STACK_BAND, max: 20_000 }),
        ),
        fc.boolean(),
      )
      .map(([depth, inObjects]) => nested(depth, inObjects)),
  },
  // Huge strings, on both sides of the record bound.
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: MAX_RECORD_BYTES - 4_096, max: MAX_RECORD_BYTES + 4_096 })
      .map((length) => 'x'.repeat(length)),
  },
);

/** A session: hostile keys and values, besides the cookie. */
const hostileSession: fc.Arbitrary<SessionData> = fc
  .dictionary(keyish, hostileValue, { maxKeys: 4 })
  .map((data) => {
    const { cookie: _, ...session } = data;
    return session;
  });

const hostileId = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 130 }),
  fc.string({ unit: 'grapheme', maxLength: 70 }),
  fc.string({
    unit: fc.constantFrom('/', '\\', '.', '..', '\0', ':', '%2e', '~', ' ', '\n', 'CON', 'é', '𝄞'),
    maxLength: 60,
  }),
  fc.constantFrom(
    '..',
    '.',
    '/',
    '../../../../etc/passwd',
    '..\\..\\windows',
    'CON',
    'nul',
    '.hidden',
    's.a',
    'x'.repeat(MAX_SPELLED_ID_BYTES),
    'x'.repeat(MAX_SPELLED_ID_BYTES + 1),
    'x'.repeat(MAX_ID_BYTES),
    'x'.repeat(MAX_ID_BYTES + 1),
    'é'.repeat(MAX_ID_BYTES / 2),
    'é'.repeat(MAX_ID_BYTES / 2 + 1),
    '\uD800',
    'a\uDC00b',
  ),
);

/** Documented: any well-formed string of 1 to MAX_ID_BYTES UTF-8 bytes is a session id. */
function isStorableId(id: string): boolean {
  return (
    id.length > 0 && id.isWellFormed() && new TextEncoder().encode(id).byteLength <= MAX_ID_BYTES
  );
}

/** Everything Object.prototype and Array.prototype hold, to spot any pollution. */
function prototypesNow() {
  return [Object.prototype, Array.prototype].map((prototype) =>
    Object.entries(Object.getOwnPropertyDescriptors(prototype)),
  );
}

/** Runs `call`, which must not throw synchronously; resolves how it settled. */
function settle(call: () => Promise<unknown>) {
  let pending: Promise<unknown>;
  try {
    pending = call();
  } catch (error) {
    throw new Error(`threw synchronously: ${String(error)}`);
  }
  return pending.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function expectCode(outcome: { ok: boolean; error?: unknown }, code: string, context: string) {
  expect(outcome.ok, context).toBe(false);
  expect(SessionStoreError.isInstance(outcome.error), context).toBe(true);
  expect((outcome.error as SessionStoreError).code, context).toBe(code);
}

let root: string;
let store: SessionStore<SessionData>;
const clock = new VirtualClock(Date.UTC(2030, 0, 1));
const log = recordingLogger();
/** What every accepted id must read back as. */
const stored = new Map<string, unknown>();
const prototypes = prototypesNow();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sessionfs-hostile-'));
  store = createSessionStore({
    adapter: createNodeAdapter({ dir: join(root, 'sessions') }),
    now: clock.now,
    ttl: HOUR,
    reapInterval: false,
    logger: log.logger,
  });
});
afterAll(async () => {
  await store.close();
  await rm(root, { recursive: true, force: true });
});

/** Sets `session` under `id` and checks what the store then holds, by the documented rules. */
/**
 * `toEqual` for JSON values of any depth the property draws: vitest's deep equality
 * overflows the stack near 3,500 nested objects, inside the depths drawn here, where
 * JSON.stringify (a frame per level in C++) goes further. Equal JSON text is equal; on a
 * difference `toEqual` judges (keys may only be in another order) and reports it.
 */
function expectSameValue(actual: unknown, expected: unknown, context: string) {
  if (JSON.stringify(actual) === JSON.stringify(expected)) return;
  expect(actual, context).toEqual(expected);
}

async function setAndReadBack(id: string, session: unknown, readsBack: unknown) {
  const context = `id ${JSON.stringify(id)}`;
  log.warnings.length = 0;
  const outcome = await settle(() => store.set(id, session as SessionData));
  if (!isStorableId(id)) {
    expectCode(outcome, ErrorCodes.INVALID_ID, context);
    expectCode(await settle(() => store.get(id)), ErrorCodes.INVALID_ID, context);
    expectCode(await settle(() => store.destroy(id)), ErrorCodes.INVALID_ID, context);
    return;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(session);
  } catch {
    // Deeper than JSON.stringify goes: the store must refuse it, typed.
  }
  if (text === undefined) {
    expectCode(outcome, ErrorCodes.ENCODE_FAILED, context);
  } else if (new TextEncoder().encode(text).byteLength + HEADER_ROOM > MAX_RECORD_BYTES) {
    expectCode(outcome, ErrorCodes.TOO_LARGE, context);
  } else {
    expect(outcome, context).toEqual({ ok: true, value: undefined });
    stored.set(id, readsBack);
  }
  expectSameValue(await store.get(id), stored.has(id) ? stored.get(id) : null, context);
  expect(prototypesNow(), `${context}: prototypes untouched`).toEqual(prototypes);
  expect(log.warnings, `${context}: nothing reads as corrupt`).toEqual([]);
}

/** After every property: the directory holds one file per accepted id, nothing else, nowhere else. */
async function expectTidyDirectory() {
  expect(await readdir(root)).toEqual(['sessions']);
  // The take lock, which the store holds for a moment after removing an expired record,
  // and the file that records the directory's layout are its own bookkeeping.
  const entries = (await readdir(join(root, 'sessions'), { withFileTypes: true })).filter(
    (entry) => entry.name !== '.sessionfs-take.lock' && entry.name !== LAYOUT_FILE,
  );
  for (const entry of entries) {
    expect(entry.isFile(), entry.name).toBe(true);
    // A short id spelled out in base32; a long one's SHA-256 in base32 after `s.0`.
    expect(entry.name).toMatch(/^s\.([a-z2-7]+|0[a-z2-7]{52})$/);
  }
  expect(entries).toHaveLength(stored.size);
  expect((await collect(store.ids())).sort()).toEqual([...stored.keys()].sort());
  for (const [id, session] of stored) expect(await store.get(id), id).toEqual(session);
}

describe('hostile input', () => {
  it('any id: stored safely inside the directory and read back as itself, or refused typed', async () => {
    await fc.assert(
      fc.asyncProperty(hostileId, fc.integer(), (id, n) => setAndReadBack(id, { n }, { n })),
      { numRuns: SIZE.hostile.runs },
    );
    await expectTidyDirectory();
  }, 300_000);

  it('any session value: read back equal (JSON semantics), or refused typed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 9 }), hostileSession, (slot, session) => {
        let readsBack: unknown;
        try {
          readsBack = jsonRoundTrip(session);
        } catch {
          readsBack = undefined;
        }
        return setAndReadBack(`value-${slot}`, session, readsBack);
      }),
      { numRuns: SIZE.hostile.runs },
    );
    await expectTidyDirectory();
  }, 300_000);

  it('nesting near the limit: read back equal, or refused typed with the previous session kept', async () => {
    const outcomes = { stored: 0, refused: 0 };
    for (const inObjects of [false, true]) {
      for (
        let depth = STRINGIFY_DEPTH - STACK_BAND;
        depth <= STRINGIFY_DEPTH + STACK_BAND;
        depth += 20
      ) {
        const id = 'near-the-limit';
        await store.set(id, { n: depth });
        const outcome = await settle(() => store.set(id, { deep: nested(depth, inObjects) }));
        const readBack = await store.get(id);
        if (outcome.ok) {
          outcomes.stored += 1;
          expect(nestingOf(readBack?.deep, inObjects), `depth ${depth}`).toBe(depth);
        } else {
          outcomes.refused += 1;
          expectCode(outcome, ErrorCodes.ENCODE_FAILED, `depth ${depth}`);
          expect(readBack, `depth ${depth}`).toEqual({ n: depth });
        }
        await store.destroy(id);
      }
    }
    // The band holds the limit: some depths in it are stored, the deeper ones refused.
    expect(outcomes.stored).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(log.warnings).toEqual([]);
  }, 120_000);

  it('any cookie: expires when it says, reads back as written until then, never reads as corrupt', async () => {
    const cookieField = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.date(),
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      fc.integer(),
      fc.double(),
      fc.string({ maxLength: 30 }),
      fc.constantFrom(1e300, Number.MAX_SAFE_INTEGER, -1, 0, 8.64e15),
    );
    const cookie = fc.oneof(
      jsonish,
      fc.record(
        { expires: cookieField, originalMaxAge: cookieField, originalExpires: cookieField },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 9 }),
        cookie,
        fc.dictionary(keyish, jsonish, { maxKeys: 3 }),
        async (slot, cookieValue, data) => {
          const id = `cookie-${slot}`;
          const session = { ...data, cookie: cookieValue };
          const expiresAt = statedExpiry(session, clock.now());
          const readsBack = jsonRoundTrip(session) as SessionData;
          if (expiresAt.fromCookieExpires) {
            const restored = readsBack.cookie as Record<string, unknown>;
            delete restored.originalExpires;
            restored.expires = new Date(expiresAt.at).toISOString();
          }
          if (expiresAt.at > clock.now()) return setAndReadBack(id, session, readsBack);
          // Already expired: accepted, and never returned.
          log.warnings.length = 0;
          await store.set(id, session);
          stored.delete(id);
          expect(await store.get(id)).toBeNull();
          expect(log.warnings).toEqual([]);
        },
      ),
      { numRuns: SIZE.hostile.runs },
    );
    await expectTidyDirectory();
  }, 300_000);
});

/**
 * The documented expiry rule: `cookie.expires` (any date `new Date` accepts), else
 * `cookie.originalMaxAge` (a positive number of ms) from now, else the store's `ttl`;
 * to the millisecond, as expiries are kept.
 */
function statedExpiry(session: { cookie?: unknown }, now: number) {
  const { at, fromCookieExpires } = statedExpiryExactly(session, now);
  return { at: Math.round(at), fromCookieExpires };
}

function statedExpiryExactly(session: { cookie?: unknown }, now: number) {
  const cookie = session.cookie;
  if (typeof cookie === 'object' && cookie !== null) {
    const { expires, originalMaxAge } = cookie as Record<string, unknown>;
    if (expires !== null && expires !== undefined) {
      const at = new Date(expires as string | number | Date).getTime();
      if (Number.isFinite(at)) return { at, fromCookieExpires: true };
    }
    if (
      typeof originalMaxAge === 'number' &&
      Number.isFinite(originalMaxAge) &&
      originalMaxAge > 0
    ) {
      return { at: now + originalMaxAge, fromCookieExpires: false };
    }
  }
  return { at: now + HOUR, fromCookieExpires: false };
}
