import { isUtf8 } from 'node:buffer';

/**
 * Turns sessions into bytes and back. The store calls `encode` once per `set` and
 * `decode` once per read from the adapter, and treats any exception as a failure of that
 * one session: `ERR_ENCODE_FAILED` for `set`, a corrupt record for `get`.
 */
export interface SessionCodec {
  /** Encodes a session. Throws for values it cannot represent (a BigInt, a cycle). */
  encode(session: unknown): Uint8Array | string;
  /** Decodes what `encode` produced. Throws for anything else. */
  decode(data: Uint8Array): unknown;
}

/**
 * The default codec: JSON in UTF-8. `JSON.parse` creates `__proto__` as a plain own
 * property, so a hostile record cannot pollute prototypes.
 */
export const jsonCodec: SessionCodec = {
  encode(session) {
    const text = JSON.stringify(session);
    if (text === undefined) throw new TypeError(`cannot encode ${typeof session} as JSON`);
    // Text: the store writes it into the record as UTF-8, without a buffer in between.
    return text;
  },
  decode(data) {
    // Invalid UTF-8 is an error, not text with replacement characters.
    if (!isUtf8(data)) throw new TypeError('session record is not valid UTF-8');
    const bytes = Buffer.isBuffer(data)
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return JSON.parse(bytes.toString('utf8'));
  },
};
