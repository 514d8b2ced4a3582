import { describe, expect, it } from 'vitest';
import { digestOf, encodeRecord, parseRecord } from '../src/record.js';

const payload = new TextEncoder().encode('{"views":1}');

describe('records', () => {
  it('round-trip the expiry, the cookie flag and the payload', () => {
    const record = encodeRecord(
      { expiresAt: 1_900_000_000_123, cookieExpires: true, digest: digestOf(payload) },
      payload,
    );
    const parsed = parseRecord(record);
    expect('payload' in parsed && [...parsed.payload]).toEqual([...payload]);
    expect({ ...parsed, payload: undefined }).toEqual({
      expiresAt: 1_900_000_000_123,
      cookieExpires: true,
      digest: digestOf(payload),
      payload: undefined,
    });
  });

  it('detect empty, truncated, extended, tampered and headerless data', () => {
    const record = encodeRecord(
      { expiresAt: 1, cookieExpires: false, digest: digestOf(payload) },
      payload,
    );
    const tampered = record.slice();
    tampered[tampered.length - 2] = 0x30;
    for (const bad of [
      new Uint8Array(0),
      record.subarray(0, record.length - 1),
      new Uint8Array([...record, 0x20]),
      tampered,
      payload,
      new Uint8Array(200).fill(0x41),
    ]) {
      expect(parseRecord(bad)).toHaveProperty('corrupt');
    }
  });
});
