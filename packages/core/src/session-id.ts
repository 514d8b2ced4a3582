import { hash } from 'node:crypto';
import { ErrorCodes, SessionStoreError } from './errors.js';
import { MAX_KEY_LENGTH } from './keys.js';

/**
 * The longest session id, in UTF-8 bytes: as long as a whole cookie may be, so that no id
 * a framework can send is refused.
 */
export const MAX_ID_BYTES = 4096;

/**
 * The longest id whose key spells it out (in base32). Encoded, it still leaves room in a
 * key for the prefixes the store uses and for an adapter's temp suffix under 255-byte file
 * names. A longer id's key is a digest of it instead, and its record keeps the id.
 */
export const MAX_SPELLED_ID_BYTES = 120;

/** Prefix of every session key: `clear()` and listings only ever touch these. */
export const SESSION_PREFIX = 's.';

/**
 * Prefix of the key of a long id: `s.0` then the base32 of the SHA-256 of the id. `0` is
 * not a base32 symbol, so such a key is never the spelled-out key of another id.
 */
const DIGEST_KEY_PREFIX = 's.0';
/** base32 of a 32-byte digest: 52 symbols. */
const DIGEST_KEY_LENGTH = DIGEST_KEY_PREFIX.length + 52;

/** Prefix of records set aside because they could not be read back. */
export const CORRUPT_PREFIX = 'corrupt.';

// RFC 4648 base32 in lowercase, without padding: 32 symbols that are all valid key
// characters, and that no case-insensitive filesystem can confuse with each other.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const VALUES = new Map([...ALPHABET].map((symbol, value) => [symbol, value]));

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

const SYMBOL_CODES = Buffer.from(ALPHABET, 'latin1');

/**
 * `prefix` followed by the base32 of `bytes`, written into a buffer and read back as one
 * flat string: a string grown symbol by symbol (or prefixed afterwards) is a rope that
 * every later Map lookup or path join must flatten again.
 */
function base32(prefix: string, bytes: Uint8Array): string {
  const out = Buffer.allocUnsafe(prefix.length + Math.ceil((bytes.byteLength * 8) / 5));
  let length = out.write(prefix, 'latin1');
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out[length++] = SYMBOL_CODES[(buffer >> bits) & 31] as number;
    }
    buffer &= 0xff;
  }
  if (bits > 0) out[length++] = SYMBOL_CODES[(buffer << (5 - bits)) & 31] as number;
  return out.toString('latin1', 0, length);
}

/** Decodes canonical base32 only: any other spelling of the same bytes is refused. */
function unbase32(text: string): Uint8Array | null {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const symbol of text) {
    const value = VALUES.get(symbol);
    if (value === undefined) return null;
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (buffer >> bits) & 0xff;
    }
  }
  // Leftover bits must be zero padding, and no more than a symbol's worth.
  if (bits >= 5 || (buffer & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

/**
 * The adapter key of a session id: `s.` and the base32 of the id's UTF-8 bytes, or, for an
 * id longer than {@link MAX_SPELLED_ID_BYTES}, `s.0` and the base32 of its SHA-256.
 *
 * Any well-formed string of 1 to {@link MAX_ID_BYTES} UTF-8 bytes is accepted, whatever
 * it holds (`..`, `/`, `\`, NUL, unicode, `CON`): the key only ever contains `[a-z0-7.]`,
 * so no id can name a path, a hidden file or a reserved device name. The encoding is
 * one-to-one and lowercase, so two different ids never share a key, also on
 * case-insensitive filesystems. Anything else is rejected with `ERR_INVALID_ID`.
 */
export function sessionKey(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new SessionStoreError(ErrorCodes.INVALID_ID, 'session id must be a non-empty string');
  }
  // Three UTF-8 bytes at most per UTF-16 unit: skip encoding huge ids just to reject them.
  if (id.length > MAX_ID_BYTES) throw tooLong(id);
  if (!id.isWellFormed()) {
    // A lone surrogate would be encoded as U+FFFD and collide with other ids.
    throw new SessionStoreError(ErrorCodes.INVALID_ID, 'session id is not well-formed UTF-16');
  }
  const bytes = Buffer.from(id, 'utf8');
  if (bytes.byteLength <= MAX_SPELLED_ID_BYTES) return base32(SESSION_PREFIX, bytes);
  if (bytes.byteLength > MAX_ID_BYTES) throw tooLong(id);
  return base32(DIGEST_KEY_PREFIX, hash('sha256', bytes, 'buffer'));
}

/** Whether `key` is the key of a long id, whose record holds the id itself. */
export function isDigestKey(key: string): boolean {
  return (
    key.length === DIGEST_KEY_LENGTH &&
    key.startsWith(DIGEST_KEY_PREFIX) &&
    unbase32(key.slice(DIGEST_KEY_PREFIX.length))?.byteLength === 32
  );
}

/**
 * Whether `key` is the key of some session id: the key of a short id that decodes, or
 * the key of a long one. Nothing else under the session prefix (a file another program
 * left there) is ever listed, counted, reaped or cleared as a session.
 */
export function isSessionKey(key: string): boolean {
  return sessionIdOf(key) !== null || isDigestKey(key);
}

/**
 * The session id stored under `key`, or `null` when `key` is not the key of a short id
 * (for the key of a long id, the record holds the id).
 */
export function sessionIdOf(key: string): string | null {
  if (!key.startsWith(SESSION_PREFIX)) return null;
  const bytes = unbase32(key.slice(SESSION_PREFIX.length));
  if (bytes === null || bytes.byteLength === 0 || bytes.byteLength > MAX_SPELLED_ID_BYTES) {
    return null;
  }
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Four base36 symbols of this process, so that two processes' aside keys differ. */
const ASIDE_TOKEN = Math.floor(Math.random() * 36 ** 4)
  .toString(36)
  .padStart(4, '0');
let asideCounter = 0;

/**
 * The key a corrupt record under `key` is moved to: never a session key, and unique (the
 * time, then this process's token and a counter), so that two records set aside in the
 * same millisecond never replace each other. The session key follows, cut to fit.
 */
export function corruptKey(key: string, now: number): string {
  asideCounter = (asideCounter + 1) % 36 ** 4;
  const head = `${CORRUPT_PREFIX}${Math.max(0, Math.round(now)).toString(36)}.${ASIDE_TOKEN}${asideCounter.toString(36).padStart(4, '0')}.`;
  return (
    head + key.slice(SESSION_PREFIX.length, SESSION_PREFIX.length + MAX_KEY_LENGTH - head.length)
  );
}

/** When the record under the aside key `key` was set aside (epoch ms), or `null`. */
export function setAsideAt(key: string): number | null {
  const match = /^corrupt\.([0-9a-z]{1,11})\.[0-9a-z]{8}\./.exec(key);
  return match === null ? null : Number.parseInt(match[1] as string, 36);
}

function tooLong(id: string): SessionStoreError {
  return new SessionStoreError(
    ErrorCodes.INVALID_ID,
    `session id is longer than ${MAX_ID_BYTES} UTF-8 bytes (${id.length} characters)`,
  );
}

/** Prefix of the index key of an owner (see {@link ownerKey}). */
export const OWNER_PREFIX = 'o.';

/**
 * The key under which the owner index keeps the sessions of `owner`: `o.` and the base32
 * of the SHA-256 of the owner's UTF-8 bytes. Whatever an app uses as owner (an email, a
 * numeric id, a string with `/`), the adapter only ever sees this.
 */
export function ownerKey(owner: string): string {
  return base32(OWNER_PREFIX, hash('sha256', owner, 'buffer'));
}
