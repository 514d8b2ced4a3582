import { describe, expect, it } from 'vitest';
import { digestOf, encodeRecord, parseRecord } from '../src/record.js';

const payload = new TextEncoder().encode('{"views":1}');

/** A whole record of `payload`, and a copy with one payload byte changed. */
function recordAndTamperedCopy() {
  const record = encodeRecord(
    { expiresAt: 1, cookieExpires: false, digest: digestOf(payload) },
    payload,
  );
  const tampered = new Uint8Array(record);
  tampered[tampered.length - 2] = 0x30;
  return { record, tampered };
}

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
    const { record, tampered } = recordAndTamperedCopy();
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

  it('refuse every malformed header', () => {
    const digest = digestOf(payload);
    const headers = [
      `sfs2 1 - ${payload.length} ${digest}`,
      `sfs1  1 - ${payload.length} ${digest}`,
      `sfs1 1x - ${payload.length} ${digest}`,
      `sfs1 12345678901234567 - ${payload.length} ${digest}`,
      `sfs1 1 x ${payload.length} ${digest}`,
      `sfs1 1 -- ${payload.length} ${digest}`,
      `sfs1 1 - ${payload.length}x ${digest}`,
      `sfs1 1 - -${payload.length} ${digest}`,
      `sfs1 1 - ${payload.length} ${digest.slice(1)}`,
      `sfs1 1 - ${payload.length} ${digest}A`,
      `sfs1 1 - ${payload.length} ${digest.slice(1)}=`,
      `sfs1 1 - ${payload.length} ${digest} `,
    ];
    for (const header of headers) {
      const record = new Uint8Array([...new TextEncoder().encode(`${header}\n`), ...payload]);
      expect(parseRecord(record), header).toEqual({ corrupt: 'malformed record header' });
    }
    const wellFormed = new TextEncoder().encode(`sfs1 1 - ${payload.length} ${digest}\n`);
    expect(parseRecord(new Uint8Array([...wellFormed, ...payload]))).toHaveProperty('payload');
  });

  it('skip hashing only a record whose digest the caller already verified', () => {
    const { record, tampered } = recordAndTamperedCopy();
    // The caller vouches for this digest (it wrote these bytes, same version): trusted.
    expect(parseRecord(tampered, digestOf(payload))).toHaveProperty('payload');
    // Any other digest is checked against the bytes.
    expect(parseRecord(tampered, digestOf(new Uint8Array([1])))).toEqual({
      corrupt: 'record digest mismatch',
    });
    expect(parseRecord(record, digestOf(new Uint8Array([1])))).toHaveProperty('payload');
  });

  it('read a record written without a digest, checking its length', () => {
    const record = encodeRecord({ expiresAt: 7, cookieExpires: true, digest: undefined }, payload);
    expect(new TextDecoder().decode(record)).toBe(`sfs1 7 e ${payload.length} -\n{"views":1}`);
    const parsed = parseRecord(record);
    expect('payload' in parsed && { ...parsed, payload: [...parsed.payload] }).toEqual({
      expiresAt: 7,
      cookieExpires: true,
      digest: undefined,
      payload: [...payload],
    });
    expect(parseRecord(record.subarray(0, record.length - 1))).toHaveProperty('corrupt');
    for (const header of [`sfs1 7 e ${payload.length} --`, `sfs1 7 e ${payload.length} `]) {
      const bad = new Uint8Array([...new TextEncoder().encode(`${header}\n`), ...payload]);
      expect(parseRecord(bad), header).toEqual({ corrupt: 'malformed record header' });
    }
  });

  it('write a text payload as the same UTF-8 bytes as its encoding, multi-byte characters included', () => {
    const text = '{"name":"Zoë 日本 🎉","views":1}';
    const bytes = new TextEncoder().encode(text);
    const header = { expiresAt: 1_900_000_000_123, cookieExpires: true, digest: digestOf(bytes) };
    const fromText = encodeRecord(header, text);
    expect([...fromText]).toEqual([...encodeRecord(header, bytes)]);
    const parsed = parseRecord(fromText);
    expect('payload' in parsed && new TextDecoder().decode(parsed.payload)).toBe(text);
  });
});
