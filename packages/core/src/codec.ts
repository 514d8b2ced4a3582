/**
 * UTF-8 that refuses invalid bytes rather than decoding replacement characters, in one
 * pass rather than a validation then a decoding, and that keeps a byte-order mark as
 * text, as `Buffer#toString` does, so that JSON refuses it.
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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
    let text: string;
    try {
      text = strictUtf8.decode(data);
    } catch (error) {
      throw new TypeError('session record is not valid UTF-8', { cause: error });
    }
    return JSON.parse(text);
  },
};
