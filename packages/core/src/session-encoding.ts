import type { SessionCodec } from './codec.js';
import { ErrorCodes, SessionStoreError } from './errors.js';
import { type PreparedSession, prepareSession, restoreSession } from './session-shape.js';

/**
 * A session turned into what a record holds and back: its expiry taken from its cookie,
 * its body encoded by the codec. Failures to encode are `ERR_ENCODE_FAILED`.
 */
export class SessionEncoding {
  constructor(
    private readonly codec: SessionCodec,
    private readonly ttl: number,
    private readonly now: () => number,
  ) {}

  /** The session's expiry and body (its cookie's `expires` taken out where it can be). */
  prepare(session: unknown): PreparedSession {
    try {
      return prepareSession(session, this.now(), this.ttl);
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

  /** The session a record's payload holds, its cookie's expiry put back. */
  decode(payload: Uint8Array, expiresAt: number, cookieExpires: boolean): unknown {
    return restoreSession(this.codec.decode(payload), expiresAt, cookieExpires);
  }
}
