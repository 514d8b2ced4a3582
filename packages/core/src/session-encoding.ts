import type { SessionCodec } from './codec.js';
import { looksSealed, type Opened, type RecordCipher, SEAL_OVERHEAD } from './encryption.js';
import { ErrorCodes, SessionStoreError } from './errors.js';
import type { StoreLogger } from './logger.js';
import { redactKey } from './redaction.js';
import { type PreparedSession, prepareSession, restoreSession } from './session-shape.js';

/** How often at most the store says that its keys are likely wrong. */
const KEYS_WARNING_MS = 60_000;

/**
 * A session turned into what a record holds and back: its expiry taken from its cookie,
 * its body encoded by the codec, and sealed when encryption is on. Failures to encode are
 * `ERR_ENCODE_FAILED`.
 */
export class SessionEncoding {
  /** What a sealed payload adds to the codec's output, at most. */
  readonly overhead: number;
  /** Reads since the last warning about the keys: opened, and unreadable with these keys. */
  private opened = 0;
  private unreadable = 0;
  private warnedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly codec: SessionCodec,
    private readonly ttl: number,
    private readonly now: () => number,
    private readonly cipher: RecordCipher | undefined,
    private readonly logger: StoreLogger,
  ) {
    this.overhead = cipher === undefined ? 0 : SEAL_OVERHEAD;
  }

  /** Whether payloads are sealed: the record header then carries no digest of them. */
  get seals(): boolean {
    return this.cipher !== undefined;
  }

  /** The session's expiry and body (its cookie's `expires` taken out where it can be). */
  prepare(session: unknown, expiresAt?: number): PreparedSession {
    try {
      return prepareSession(session, this.now(), this.ttl, expiresAt);
    } catch (error) {
      throw new SessionStoreError(
        ErrorCodes.ENCODE_FAILED,
        '@sessionfs/core: cannot read the session cookie',
        { cause: error },
      );
    }
  }

  /**
   * The codec's encoding of `body`: text is kept as a string (the record takes it as
   * UTF-8 directly), unless it is not well-formed, when it becomes bytes first so that
   * what is hashed and what is written are one and the same.
   */
  encode(body: unknown): Uint8Array | string {
    try {
      const encoded = this.codec.encode(body);
      if (typeof encoded !== 'string') return encoded;
      return encoded.isWellFormed() ? encoded : Buffer.from(encoded, 'utf8');
    } catch (error) {
      throw new SessionStoreError(
        ErrorCodes.ENCODE_FAILED,
        `@sessionfs/core: cannot encode the session: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  /** What a record of session key `key` holds of `payload`: sealed, when encryption is on. */
  seal(payload: Uint8Array | string, key: string, cookieExpires: boolean) {
    return this.cipher === undefined ? payload : this.cipher.seal(payload, key, cookieExpires);
  }

  /**
   * The codec's encoding a record's payload holds, and whether it is sealed with the
   * current key (or needs no sealing): at once, but for a key stretched from a passphrase
   * not yet stretched. A payload these settings cannot read (under another key, sealed
   * without keys here, plaintext where sealing is required) is reported, and a warning
   * says once a minute when most reads fail that way: the keys are likely wrong.
   */
  open(payload: Uint8Array, key: string, cookieExpires: boolean): Opened | Promise<Opened> {
    if (this.cipher === undefined) {
      return this.tally(
        looksSealed(payload)
          ? { unreadable: 'unknown key' }
          : { plaintext: payload, current: true },
        key,
      );
    }
    const opened = this.cipher.open(payload, key, cookieExpires);
    return opened instanceof Promise
      ? opened.then((result) => this.tally(result, key))
      : this.tally(opened, key);
  }

  /** Counts a read for the warning about the keys (see {@link open}), which it may give. */
  private tally(opened: Opened, key: string): Opened {
    if (!('unreadable' in opened)) {
      this.opened += 1;
      return opened;
    }
    if (opened.unreadable === 'not authentic') return opened;
    this.unreadable += 1;
    const now = this.now();
    if (now - this.warnedAt >= KEYS_WARNING_MS && this.unreadable > this.opened) {
      this.logger.warn(
        { key: redactKey(key), unreadable: this.unreadable, read: this.opened },
        this.cipher === undefined
          ? '@sessionfs/core: encrypted session records, and no `encryption` keys: they read as missing and are left as they are'
          : opened.unreadable === 'plaintext'
            ? '@sessionfs/core: plaintext session records in an encrypted store: they read as missing and are left as they are (`encryption.acceptPlaintext` reads them, for a migration)'
            : '@sessionfs/core: most session records are sealed with a key not in `encryption.keys`: the keys are likely wrong. The records read as missing and are left as they are',
      );
      this.warnedAt = now;
      this.opened = 0;
      this.unreadable = 0;
    }
    return opened;
  }

  /** The session a record's payload holds, its cookie's expiry put back. */
  decode(payload: Uint8Array, expiresAt: number, cookieExpires: boolean): unknown {
    return restoreSession(this.codec.decode(payload), expiresAt, cookieExpires);
  }
}
