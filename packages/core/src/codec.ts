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

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The default codec: JSON in UTF-8. `JSON.parse` creates `__proto__` as a plain own
 * property, so a hostile record cannot pollute prototypes.
 */
export const jsonCodec: SessionCodec = {
  encode(session) {
    const text = JSON.stringify(session);
    if (text === undefined) throw new TypeError(`cannot encode ${typeof session} as JSON`);
    return encoder.encode(text);
  },
  decode(data) {
    return JSON.parse(decoder.decode(data));
  },
};
