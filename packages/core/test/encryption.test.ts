// The sealed record format, pinned: fixed inputs must give the committed bytes, and the
// committed bytes must open, by this code and by a decoder written from the format's
// description alone. A change of format comes as a new version that still reads these.
import { createDecipheriv, createHmac, scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { looksSealed, RecordCipher, sealWith } from '../src/encryption.js';
import { parseRecord } from '../src/record.js';

const vectors = JSON.parse(
  readFileSync(new URL('./fixtures/sealed-records-v1.json', import.meta.url), 'utf8'),
);
const hex = (text: string) => Buffer.from(text, 'hex');
const keyIdOf = (key: Buffer) =>
  createHmac('sha256', key).update('sessionfs record key id').digest().subarray(0, 8);
const stretch = (passphrase: string, salt: Buffer) =>
  scryptSync(passphrase, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });

/** The format as documented: "sfe1" | kind | key id (8) | [salt (16)] | nonce (12) | ciphertext | tag (16). */
function openByTheBook(payload: Buffer, key: Buffer, sessionKey: string, cookieExpires: boolean) {
  expect(payload.subarray(0, 4).toString('latin1')).toBe('sfe1');
  const nonceStart = payload[4] === 1 ? 29 : 13;
  const decipher = createDecipheriv(
    'aes-256-gcm',
    key,
    payload.subarray(nonceStart, nonceStart + 12),
  );
  decipher.setAAD(
    Buffer.concat([
      payload.subarray(0, nonceStart),
      Buffer.from(`\0${sessionKey}\0${cookieExpires ? 'e' : '-'}`),
    ]),
  );
  decipher.setAuthTag(payload.subarray(-16));
  return Buffer.concat([
    decipher.update(payload.subarray(nonceStart + 12, -16)),
    decipher.final(),
  ]).toString();
}

describe('sealed records, format 1', () => {
  const { sessionKey, plaintext, cookieExpires, expiresAt } = vectors;
  const nonce = hex(vectors.nonce);

  it.each([
    {
      kind: 'a raw key',
      key: () => hex(vectors.raw.key),
      salt: undefined,
      payload: vectors.raw.payload,
      configured: vectors.raw.key,
    },
    {
      kind: 'a passphrase (scrypt N 2^15, r 8, p 1, the record salt)',
      key: () => stretch(vectors.passphrase.passphrase, hex(vectors.passphrase.salt)),
      salt: hex(vectors.passphrase.salt),
      payload: vectors.passphrase.payload,
      configured: { passphrase: vectors.passphrase.passphrase },
    },
  ])('$kind: fixed inputs give the committed bytes, which open', async (vector) => {
    const key = vector.key();
    const sealed = sealWith(
      { key, id: keyIdOf(key) },
      vector.salt,
      nonce,
      plaintext,
      sessionKey,
      cookieExpires,
    );
    expect(sealed.toString('hex')).toBe(vector.payload);
    expect(openByTheBook(sealed, key, sessionKey, cookieExpires)).toBe(plaintext);
    const cipher = new RecordCipher({ keys: [vector.configured] });
    expect(await cipher.open(sealed, sessionKey, cookieExpires)).toEqual({
      plaintext: Buffer.from(plaintext),
      current: true,
    });
  });

  it('whole records: the store header without a digest, then the sealed payload', () => {
    for (const vector of [vectors.raw, vectors.passphrase]) {
      const record = parseRecord(hex(vector.record));
      expect(record).toMatchObject({ expiresAt, cookieExpires, digest: undefined });
      const payload = Buffer.from((record as { payload: Uint8Array }).payload);
      expect(payload.toString('hex')).toBe(vector.payload);
      expect(looksSealed(payload)).toBe(true);
    }
  });

  it('an older key opens but is not current; another key or session key does not open', async () => {
    const sealed = hex(vectors.raw.payload);
    const other = 'ff'.repeat(32);
    const rotated = new RecordCipher({ keys: [other, vectors.raw.key] });
    expect(await rotated.open(sealed, sessionKey, cookieExpires)).toMatchObject({ current: false });
    expect(
      await new RecordCipher({ keys: [other] }).open(sealed, sessionKey, cookieExpires),
    ).toEqual({
      unreadable: 'unknown key',
    });
    const cipher = new RecordCipher({ keys: [vectors.raw.key] });
    expect(await cipher.open(sealed, `${sessionKey}x`, cookieExpires)).toEqual({
      unreadable: 'not authentic',
    });
    expect(await cipher.open(sealed, sessionKey, !cookieExpires)).toEqual({
      unreadable: 'not authentic',
    });
    // Cut short anywhere: never opened, never an exception.
    for (let length = 0; length < sealed.byteLength; length += 1) {
      expect(
        await cipher.open(sealed.subarray(0, length), sessionKey, cookieExpires),
      ).toHaveProperty('unreadable');
    }
  });

  it('opens a payload it sealed or opened before without trusting anything but its very bytes', async () => {
    const cipher = new RecordCipher({ keys: [vectors.raw.key] });
    const sealed = Buffer.from(await cipher.seal(plaintext, sessionKey, cookieExpires));
    const opened = { plaintext: Buffer.from(plaintext), current: true };
    // Read back, as a record read from the medium: a copy, twice.
    expect(await cipher.open(Buffer.from(sealed), sessionKey, cookieExpires)).toEqual(opened);
    expect(await cipher.open(Buffer.from(sealed), sessionKey, cookieExpires)).toEqual(opened);
    // Changed anywhere after the session's last seal was opened: never served.
    for (let index = 13; index < sealed.byteLength; index += 1) {
      const altered = Buffer.from(sealed);
      altered[index] = (altered[index] as number) ^ 0x01;
      expect(await cipher.open(altered, sessionKey, cookieExpires), `byte ${index}`).toEqual({
        unreadable: 'not authentic',
      });
    }
    // The same bytes with the other cookie flag, or under another session's key.
    expect(await cipher.open(sealed, sessionKey, !cookieExpires)).toEqual({
      unreadable: 'not authentic',
    });
    expect(await cipher.open(sealed, `${sessionKey}x`, cookieExpires)).toEqual({
      unreadable: 'not authentic',
    });
  });

  it('seals with a fresh nonce each time', async () => {
    const cipher = new RecordCipher({ keys: [vectors.raw.key] });
    const first = await cipher.seal(plaintext, sessionKey, false);
    const second = await cipher.seal(plaintext, sessionKey, false);
    expect(Buffer.from(first).subarray(13, 25).equals(Buffer.from(second).subarray(13, 25))).toBe(
      false,
    );
  });
});
