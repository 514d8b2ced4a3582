import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
  randomFillSync,
  scrypt as scryptCallback,
} from 'node:crypto';
import { promisify } from 'node:util';
import { BoundedLru } from './bounded-lru.js';
import { ErrorCodes, SessionStoreError } from './errors.js';

/**
 * A key of the `encryption` option: 32 random bytes in hex (64 characters) or base64 (44,
 * or 43 unpadded), or a passphrase, stretched with scrypt.
 */
export type EncryptionKey = string | { readonly passphrase: string };

/** The `encryption` option of the store. */
export interface EncryptionOptions {
  /**
   * The current key first, then older keys still to be read. Writes use the first; reads
   * accept any; a session read under an older key is written under the first on its next
   * save.
   */
  readonly keys: readonly EncryptionKey[];
  /**
   * Read records written before encryption was turned on (and encrypt them on their next
   * save), for the migration window only. Default `false`: a plaintext record reads as
   * missing and is left as it is, so that nobody who can write the medium forges a session.
   */
  readonly acceptPlaintext?: boolean;
}

/**
 * The sealed payload of a record (format 1), all of it but the nonce, the ciphertext and
 * the tag authenticated as associated data, together with the session's key and the
 * record's `cookie.expires` flag:
 *
 *     "sfe1" | kind (1) | key id (8) | [salt (16), kind 1 only] | nonce (12) | ciphertext | tag (16)
 *
 * kind 0: a raw key; kind 1: a key stretched from a passphrase with scrypt (N 2^15, r 8,
 * p 1) and the salt. The key id is the first 8 bytes of HMAC-SHA256(key, KEY_ID_LABEL).
 * AES-256-GCM, a fresh random nonce per record.
 */
const MAGIC = Buffer.from('sfe1', 'latin1');
const RAW_KIND = 0;
const PASSPHRASE_KIND = 1;
const KEY_ID_BYTES = 8;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID_LABEL = 'sessionfs record key id';
/** The most a sealed payload adds to the codec's output. */
export const SEAL_OVERHEAD =
  MAGIC.byteLength + 1 + KEY_ID_BYTES + SALT_BYTES + NONCE_BYTES + TAG_BYTES;
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
/** Shortest passphrase accepted: shorter ones fall to a dictionary even through scrypt. */
const MIN_PASSPHRASE_LENGTH = 12;
/** Most salts whose derived keys are kept: each costs one scrypt run to derive again. */
const MAX_SALTS = 64;
/** Most sessions, and bytes, whose last seal is remembered with its plaintext (see {@link Unsealed}). */
const UNSEALED_MAX_ENTRIES = 10_000;
const UNSEALED_MAX_BYTES = 4 * 1024 * 1024;
/** What a remembered seal costs besides its bytes, for the byte bound. */
const UNSEALED_ENTRY_BYTES = 128;

const scrypt = promisify(scryptCallback) as (
  passphrase: string,
  salt: Uint8Array,
  keylen: number,
  options: typeof SCRYPT,
) => Promise<Buffer>;

interface DerivedKey {
  readonly key: KeyObject;
  readonly id: Buffer;
  /** Its place in the `keys` option: 0 is the current key. */
  readonly rank: number;
}

/** What {@link RecordCipher.open} makes of a payload. */
export type Opened =
  | { readonly plaintext: Uint8Array; readonly current: boolean }
  | { readonly unreadable: 'unknown key' | 'plaintext' | 'not authentic' };

/**
 * A sealed payload this process made or opened, and its plaintext. A session is read on
 * every request and written far less often: a payload read again byte for byte is the
 * one authenticated before, so it is not opened again. Both are kept as latin1 strings of
 * their bytes: a small string costs the collector little, where a small buffer of its own
 * costs a backing store each (a view into a read buffer or Node's pool would keep all of
 * that alive).
 */
interface Unsealed {
  readonly sealed: string;
  readonly cookieExpires: boolean;
  readonly plaintext: string;
  /** Whether it was sealed with the current key. */
  readonly current: boolean;
}

/** The bytes of `bytes`, one character each. */
function latin1Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Random nonces drawn a pool at a time: one call to the CSPRNG per 340 records. */
const NONCE_POOL_BYTES = NONCE_BYTES * 340;
let noncePool = Buffer.alloc(0);
let nonceAt = NONCE_POOL_BYTES;

/** A fresh random nonce, never handed out twice. */
function freshNonce(): Buffer {
  if (nonceAt + NONCE_BYTES > noncePool.byteLength) {
    // A new buffer each time: nonces handed out before keep their bytes.
    noncePool = randomFillSync(Buffer.allocUnsafe(NONCE_POOL_BYTES));
    nonceAt = 0;
  }
  nonceAt += NONCE_BYTES;
  return noncePool.subarray(nonceAt - NONCE_BYTES, nonceAt);
}

function keyIdOf(key: Buffer): Buffer {
  return createHmac('sha256', key).update(KEY_ID_LABEL).digest().subarray(0, KEY_ID_BYTES);
}

function invalid(message: string): never {
  throw new SessionStoreError(ErrorCodes.INVALID_OPTION, `@sessionfs/core: ${message}`);
}

/** The 32 bytes a key string spells, in hex or base64 (url-safe or not, padded or not). */
function rawKeyOf(text: string, index: number): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const key = Buffer.from(
      text.replace(/[-_]/g, (c) => (c === '-' ? '+' : '/')),
      'base64',
    );
    if (key.byteLength === KEY_BYTES) return key;
  }
  return invalid(
    `option \`encryption.keys[${index}]\` must be 32 random bytes in hex (64 characters) or base64 (44), or { passphrase }`,
  );
}

/** Whether `payload` is a sealed one: a store without the keys must not take it for data. */
export function looksSealed(payload: Uint8Array): boolean {
  return (
    payload.byteLength >= MAGIC.byteLength &&
    payload[0] === MAGIC[0] &&
    payload[1] === MAGIC[1] &&
    payload[2] === MAGIC[2] &&
    payload[3] === MAGIC[3]
  );
}

/**
 * Seals and opens record payloads with the configured keys. A record is bound to the
 * session key it is stored under: copied under another session's name it does not open.
 */
export class RecordCipher {
  readonly acceptPlaintext: boolean;
  private readonly raw: DerivedKey[] = [];
  private readonly passphrases: { readonly passphrase: string; readonly rank: number }[] = [];
  /** This store's salt, for the keys it stretches from a passphrase. */
  private readonly salt = randomBytes(SALT_BYTES);
  /** Keys stretched from the passphrases, by salt (hex): one scrypt run per salt. */
  private readonly stretched = new Map<string, Promise<DerivedKey[]>>();
  /** The last seal of each session handled lately, by session key. */
  private readonly unsealed = new BoundedLru<Unsealed>(UNSEALED_MAX_ENTRIES, UNSEALED_MAX_BYTES);

  constructor(options: EncryptionOptions) {
    if (typeof options !== 'object' || options === null || !Array.isArray(options.keys)) {
      invalid('option `encryption` must be { keys: [currentKey, ...olderKeys] }');
    }
    if (options.keys.length === 0) invalid('option `encryption.keys` needs at least one key');
    options.keys.forEach((entry, rank) => {
      if (typeof entry === 'string') {
        const key = rawKeyOf(entry, rank);
        this.raw.push({ key: createSecretKey(key), id: keyIdOf(key), rank });
      } else if (typeof entry?.passphrase === 'string') {
        if (entry.passphrase.length < MIN_PASSPHRASE_LENGTH) {
          invalid(
            `option \`encryption.keys[${rank}].passphrase\` must be at least ${MIN_PASSPHRASE_LENGTH} characters; a random key is better`,
          );
        }
        this.passphrases.push({ passphrase: entry.passphrase, rank });
      } else {
        invalid(`option \`encryption.keys[${rank}]\` must be a key string or { passphrase }`);
      }
    });
    const ids = new Set(this.raw.map(({ id }) => id.toString('hex')));
    if (ids.size !== this.raw.length) invalid('option `encryption.keys` lists a key twice');
    if (
      new Set(this.passphrases.map(({ passphrase }) => passphrase)).size !== this.passphrases.length
    ) {
      invalid('option `encryption.keys` lists a passphrase twice');
    }
    this.acceptPlaintext = options.acceptPlaintext === true;
  }

  /**
   * The payload of a record of session key `key`, sealed with the current key: at once
   * with a raw key, once stretched (one scrypt run per store) with a passphrase, and
   * remembered as this session's last seal (see {@link Unsealed}).
   */
  seal(
    plaintext: Uint8Array | string,
    key: string,
    cookieExpires: boolean,
  ): Uint8Array | Promise<Uint8Array> {
    const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const current = this.raw[0];
    if (current?.rank === 0) {
      const sealed = sealWith(current, undefined, freshNonce(), bytes, key, cookieExpires);
      this.remember(key, sealed, cookieExpires, bytes, true);
      return sealed;
    }
    return this.stretchedWith(this.salt).then((keys) => {
      const sealed = sealWith(
        keys.find(({ rank }) => rank === 0) as DerivedKey,
        this.salt,
        freshNonce(),
        bytes,
        key,
        cookieExpires,
      );
      this.remember(key, sealed, cookieExpires, bytes, true);
      return sealed;
    });
  }

  /**
   * The plaintext of a record's payload, and whether it was sealed with the current key:
   * at once for a raw key, once the record's salt is stretched for a passphrase.
   */
  open(payload: Uint8Array, key: string, cookieExpires: boolean): Opened | Promise<Opened> {
    if (!looksSealed(payload)) {
      return this.acceptPlaintext
        ? { plaintext: payload, current: false }
        : { unreadable: 'plaintext' };
    }
    const remembered = this.unsealed.get(key);
    if (
      remembered !== undefined &&
      remembered.cookieExpires === cookieExpires &&
      remembered.sealed.length === payload.byteLength &&
      remembered.sealed === latin1Of(payload)
    ) {
      return {
        plaintext: Buffer.from(remembered.plaintext, 'latin1'),
        current: remembered.current,
      };
    }
    const kind = payload[MAGIC.byteLength];
    const idStart = MAGIC.byteLength + 1;
    const saltStart = idStart + KEY_ID_BYTES;
    const nonceStart = kind === PASSPHRASE_KIND ? saltStart + SALT_BYTES : saltStart;
    if (
      (kind !== RAW_KIND && kind !== PASSPHRASE_KIND) ||
      payload.byteLength < nonceStart + NONCE_BYTES + TAG_BYTES
    ) {
      return { unreadable: 'not authentic' };
    }
    if (kind === RAW_KIND) {
      return this.noted(
        key,
        payload,
        cookieExpires,
        openWith(this.raw, payload, nonceStart, key, cookieExpires),
      );
    }
    if (this.passphrases.length === 0) return { unreadable: 'unknown key' };
    return this.stretchedWith(Buffer.from(payload.subarray(saltStart, nonceStart))).then(
      (candidates) =>
        this.noted(
          key,
          payload,
          cookieExpires,
          openWith(candidates, payload, nonceStart, key, cookieExpires),
        ),
    );
  }

  /** `opened`, remembered with the payload it came from when it opened. */
  private noted(key: string, payload: Uint8Array, cookieExpires: boolean, opened: Opened): Opened {
    if ('plaintext' in opened) {
      this.remember(key, payload, cookieExpires, opened.plaintext, opened.current);
    }
    return opened;
  }

  /** Remembers `sealed` as the last seal of `key`, and its plaintext (see {@link Unsealed}). */
  private remember(
    key: string,
    sealed: Uint8Array,
    cookieExpires: boolean,
    plaintext: Uint8Array,
    current: boolean,
  ): void {
    const entry: Unsealed = {
      sealed: latin1Of(sealed),
      cookieExpires,
      plaintext: latin1Of(plaintext),
      current,
    };
    this.unsealed.set(
      key,
      entry,
      UNSEALED_ENTRY_BYTES + entry.sealed.length + entry.plaintext.length,
    );
  }

  /** The keys the passphrases stretch to with `salt`, derived once per salt. */
  private stretchedWith(salt: Buffer): Promise<DerivedKey[]> {
    const saltHex = salt.toString('hex');
    let keys = this.stretched.get(saltHex);
    if (keys === undefined) {
      keys = Promise.all(
        this.passphrases.map(async ({ passphrase, rank }) => {
          const key = await scrypt(passphrase, salt, KEY_BYTES, SCRYPT);
          return { key: createSecretKey(key), id: keyIdOf(key), rank };
        }),
      );
      if (this.stretched.size >= MAX_SALTS) {
        // The oldest other salt goes; this store's own stays.
        for (const old of this.stretched.keys()) {
          if (old !== this.salt.toString('hex')) {
            this.stretched.delete(old);
            break;
          }
        }
      }
      this.stretched.set(saltHex, keys);
    }
    return keys;
  }
}

/**
 * Opens a payload (format checked, its nonce at `nonceStart`) with whichever of
 * `candidates` its key id names.
 */
function openWith(
  candidates: readonly DerivedKey[],
  payload: Uint8Array,
  nonceStart: number,
  key: string,
  cookieExpires: boolean,
): Opened {
  const id = payload.subarray(MAGIC.byteLength + 1, MAGIC.byteLength + 1 + KEY_ID_BYTES);
  const derived = candidates.find((candidate) => candidate.id.equals(id));
  if (derived === undefined) return { unreadable: 'unknown key' };
  const tagStart = payload.byteLength - TAG_BYTES;
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      derived.key,
      payload.subarray(nonceStart, nonceStart + NONCE_BYTES),
    );
    decipher.setAAD(associatedData(payload.subarray(0, nonceStart), key, cookieExpires));
    decipher.setAuthTag(payload.subarray(tagStart));
    const plaintext = decipher.update(payload.subarray(nonceStart + NONCE_BYTES, tagStart));
    // GCM holds nothing back: `final` only checks the tag.
    const rest = decipher.final();
    return {
      plaintext: rest.byteLength === 0 ? plaintext : Buffer.concat([plaintext, rest]),
      current: derived.rank === 0,
    };
  } catch {
    return { unreadable: 'not authentic' };
  }
}

/** What a record's seal authenticates besides its ciphertext. */
function associatedData(prefix: Uint8Array, key: string, cookieExpires: boolean): Buffer {
  // Keys are ASCII (`sessionKey`); written as UTF-8 all the same.
  const keyBytes = Buffer.byteLength(key, 'utf8');
  const data = Buffer.allocUnsafe(prefix.byteLength + keyBytes + 3);
  data.set(prefix, 0);
  let at = prefix.byteLength;
  data[at++] = 0;
  at += data.write(key, at, 'utf8');
  data[at++] = 0;
  data[at] = cookieExpires ? 0x65 : 0x2d;
  return data;
}

/**
 * Seals `plaintext` with `derived` (and its `salt`, for a key stretched from a passphrase)
 * and `nonce`. Exported for the known-answer tests, which fix the nonce.
 */
export function sealWith(
  derived: { readonly key: KeyObject | Buffer; readonly id: Buffer },
  salt: Buffer | undefined,
  nonce: Buffer,
  plaintext: Uint8Array | string,
  key: string,
  cookieExpires: boolean,
): Buffer {
  const saltBytes = salt === undefined ? 0 : SALT_BYTES;
  const nonceStart = MAGIC.byteLength + 1 + KEY_ID_BYTES + saltBytes;
  const cipher = createCipheriv('aes-256-gcm', derived.key, nonce);
  const body = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const sealed = Buffer.allocUnsafe(nonceStart + NONCE_BYTES + body.byteLength + TAG_BYTES);
  sealed.set(MAGIC, 0);
  sealed[MAGIC.byteLength] = salt === undefined ? RAW_KIND : PASSPHRASE_KIND;
  sealed.set(derived.id, MAGIC.byteLength + 1);
  if (salt !== undefined) sealed.set(salt, MAGIC.byteLength + 1 + KEY_ID_BYTES);
  sealed.set(nonce, nonceStart);
  cipher.setAAD(associatedData(sealed.subarray(0, nonceStart), key, cookieExpires));
  const ciphertext = cipher.update(body);
  // GCM holds nothing back: `final` only computes the tag.
  cipher.final();
  sealed.set(ciphertext, nonceStart + NONCE_BYTES);
  sealed.set(cipher.getAuthTag(), nonceStart + NONCE_BYTES + ciphertext.byteLength);
  return sealed;
}

/** The key material of a raw key string, for tests. */
