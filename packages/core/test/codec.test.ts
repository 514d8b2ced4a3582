import { describe, expect, it } from 'vitest';
import { jsonCodec } from '../src/codec.js';

describe('jsonCodec', () => {
  it('round-trips a session, keeping an own __proto__ as data', () => {
    const session = JSON.parse('{"user":"ada","__proto__":{"admin":true}}');
    const decoded = jsonCodec.decode(Buffer.from(jsonCodec.encode(session))) as object;
    expect(decoded).toEqual(session);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });

  it('refuses bytes that are not UTF-8 instead of decoding replacement characters', () => {
    // `{"a":"<0xff>"}`: JSON-shaped, but 0xff is never valid UTF-8.
    const data = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    expect(() => jsonCodec.decode(data)).toThrow(/UTF-8/);
  });

  it('refuses a byte-order mark before the JSON, as JSON itself does', () => {
    const data = Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"a":1}')]);
    expect(() => jsonCodec.decode(data)).toThrow(SyntaxError);
  });

  it('decodes a view into a larger buffer, not the bytes around it', () => {
    const whole = Buffer.from('xx{"a":"é"}yy');
    expect(
      jsonCodec.decode(new Uint8Array(whole.buffer, whole.byteOffset + 2, whole.length - 4)),
    ).toEqual({ a: 'é' });
  });
});
