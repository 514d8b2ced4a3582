import { hash } from 'node:crypto';

/**
 * A stored session is a one-line ASCII header followed by the codec's payload:
 *
 *     sfs1 <expiresAt> <e|-> <payload bytes> <sha1 of payload, base64url>\n<payload>
 *
 * The length and digest make an empty, truncated or garbage record detectable before
 * the codec sees it; the digest also tells an unchanged session from a changed one
 * without keeping the session itself. `e` records that the session's `cookie.expires`
 * was taken out of the payload and is to be put back from the record's expiry.
 */
export interface RecordHeader {
  /** Expiry written with the record (the adapter's own expiry wins when it keeps one). */
  readonly expiresAt: number;
  /** Whether `cookie.expires` is restored from the expiry on read. */
  readonly cookieExpires: boolean;
  /** base64url SHA-1 of the payload. */
  readonly digest: string;
}

export interface ParsedRecord extends RecordHeader {
  readonly payload: Uint8Array;
}

const MAGIC = 'sfs1';
const NEWLINE = 0x0a;
/** Longer than any header the store writes: past it, a record is garbage. */
const MAX_HEADER_BYTES = 96;
const HEADER_PATTERN = /^sfs1 (\d{1,16}) ([e-]) (\d{1,15}) ([A-Za-z0-9_-]{27})$/;
const ascii = new TextDecoder('latin1');

/** base64url SHA-1 of `payload`: a content fingerprint, not a security boundary. */
export function digestOf(payload: Uint8Array): string {
  return hash('sha1', payload, 'base64url');
}

export function encodeRecord(header: RecordHeader, payload: Uint8Array): Uint8Array {
  const line = `${MAGIC} ${Math.round(header.expiresAt)} ${header.cookieExpires ? 'e' : '-'} ${payload.byteLength} ${header.digest}\n`;
  // The header is ASCII: one byte per character. The adapter keeps no reference past its
  // write (FsAdapter.write), so the record may come from Node's shared buffer pool.
  const record = Buffer.allocUnsafe(line.length + payload.byteLength);
  record.write(line, 0, 'latin1');
  record.set(payload, line.length);
  return record;
}

/** The header and payload of a record, or a reason why it is not a whole record. */
export function parseRecord(data: Uint8Array): ParsedRecord | { readonly corrupt: string } {
  if (data.byteLength === 0) return { corrupt: 'empty record' };
  const end = data.subarray(0, MAX_HEADER_BYTES).indexOf(NEWLINE);
  if (end < 0) return { corrupt: 'no record header' };
  const match = HEADER_PATTERN.exec(ascii.decode(data.subarray(0, end)));
  if (!match) return { corrupt: 'malformed record header' };
  const [, expiresAt, flag, length, digest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  const payload = data.subarray(end + 1);
  if (payload.byteLength !== Number(length)) {
    return { corrupt: `truncated record: ${payload.byteLength} of ${length} payload bytes` };
  }
  if (digestOf(payload) !== digest) return { corrupt: 'record digest mismatch' };
  return { expiresAt: Number(expiresAt), cookieExpires: flag === 'e', digest, payload };
}

/** The header room a record needs besides its payload. */
export const RECORD_OVERHEAD_BYTES = MAX_HEADER_BYTES;
