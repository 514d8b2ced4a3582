import { hash } from 'node:crypto';
import { MAX_ID_BYTES } from './session-id.js';

/**
 * A stored session is a one-line ASCII header followed by the codec's payload:
 *
 *     sfs1 <expiresAt> <e|-> <payload bytes> <sha1 of payload, base64url | -> [<id>]\n<payload>
 *
 * The length and digest make an empty, truncated or garbage record detectable before
 * the codec sees it; the digest also tells an unchanged session from a changed one
 * without keeping the session itself. `e` records that the session's `cookie.expires`
 * was taken out of the payload and is to be put back from the record's expiry.
 *
 * The digest is `-` where the store has no use for it: over an adapter that writes every
 * save (`cheapWrites`), no save is skipped as unchanged, and such an adapter's values
 * cannot tear (a Redis `SET`), so hashing every save would be spent for nothing. The
 * length is checked all the same.
 *
 * `<id>` (base64url of the id's UTF-8) is there only in the record of a long id, whose key
 * is a digest of it: listings learn the id from it, and a read checks it.
 */
export interface RecordHeader {
  /** Expiry written with the record (the adapter's own expiry wins when it keeps one). */
  readonly expiresAt: number;
  /** Whether `cookie.expires` is restored from the expiry on read. */
  readonly cookieExpires: boolean;
  /** base64url SHA-1 of the payload; `undefined` for a record written without one. */
  readonly digest: string | undefined;
  /** The session id, in the record of a long id only. */
  readonly id?: string | undefined;
}

export interface ParsedRecord extends RecordHeader {
  readonly payload: Uint8Array;
}

const MAGIC = 'sfs1 ';
const NEWLINE = 0x0a;
const SPACE = 0x20;
/** Longer than any header the store writes without an id. */
const BASE_HEADER_BYTES = 96;
/** Longer than any header the store writes: past it, a record is garbage. */
const MAX_HEADER_BYTES = BASE_HEADER_BYTES + Math.ceil((MAX_ID_BYTES * 4) / 3) + 1;
const DIGEST_CHARS = 27;
/** The digest field of a record written without one. */
const NO_DIGEST = '-';
/** The characters of base64url, by byte. */
const BASE64URL = new Uint8Array(128);
for (const symbol of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') {
  BASE64URL[symbol.charCodeAt(0)] = 1;
}
const latin1 = new TextDecoder('latin1');
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * base64url SHA-1 of `payload` (of its UTF-8 bytes, for a well-formed string): a content
 * fingerprint, not a security boundary.
 */
export function digestOf(payload: Uint8Array | string): string {
  return hash('sha1', payload, 'base64url');
}

/** How many bytes `payload` takes in a record: a string is written as UTF-8. */
export function payloadLength(payload: Uint8Array | string): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
}

/**
 * The record of `payload` under `header`, `length` being the payload's size in the record
 * when the caller knows it already. A string payload (a well-formed one: the store
 * converts any other to bytes first) is written straight into the record as UTF-8, with
 * no buffer of its own in between, and not joined to the header first: a joined string is
 * copied whole into a flat one before encoding, garbage as large as the session on every
 * save.
 */
export function encodeRecord(
  header: RecordHeader,
  payload: Uint8Array | string,
  length = payloadLength(payload),
): Uint8Array {
  const id =
    header.id === undefined ? '' : ` ${Buffer.from(header.id, 'utf8').toString('base64url')}`;
  const line = `${MAGIC}${Math.round(header.expiresAt)} ${header.cookieExpires ? 'e' : '-'} ${length} ${header.digest ?? NO_DIGEST}${id}\n`;
  // The adapter keeps no reference past its write (FsAdapter.write), so the record may come
  // from Node's shared buffer pool.
  const record = Buffer.allocUnsafe(line.length + length);
  record.write(line, 0, 'latin1');
  if (typeof payload === 'string') record.write(payload, line.length, 'utf8');
  else record.set(payload, line.length);
  return record;
}

/** Where the last {@link numberAt} ended (its space): parsing allocates nothing. */
let numberEnd = 0;

/**
 * The decimal number of 1 to `maxDigits` digits at `data[start]`, ended by a space (its
 * index then in `numberEnd`); -1 when there is none.
 */
function numberAt(data: Uint8Array, start: number, maxDigits: number): number {
  let value = 0;
  let index = start;
  for (; index < start + maxDigits + 1 && index < data.byteLength; index += 1) {
    const byte = data[index] as number;
    if (byte === SPACE) break;
    if (byte < 0x30 || byte > 0x39) return -1;
    value = value * 10 + (byte - 0x30);
  }
  if (index === start || index - start > maxDigits || data[index] !== SPACE) return -1;
  numberEnd = index;
  return value;
}

const MALFORMED = Object.freeze({ corrupt: 'malformed record header' });

/** Whether `data` holds the ASCII `digest` at `start` (compared in place: no new string). */
function carries(data: Uint8Array, start: number, digest: string | undefined): boolean {
  if (digest === undefined || digest.length !== DIGEST_CHARS) return false;
  for (let index = 0; index < DIGEST_CHARS; index += 1) {
    if (data[start + index] !== digest.charCodeAt(index)) return false;
  }
  return true;
}

/**
 * The header and payload of a record, or a reason why it is not a whole record.
 *
 * `verifiedDigest`: the digest of a record the caller wrote or checked before and knows to
 * be unchanged since (the adapter reports the same version). A record carrying it is not
 * hashed again; any other is.
 */
export function parseRecord(
  data: Uint8Array,
  verifiedDigest?: string,
): ParsedRecord | { readonly corrupt: string } {
  if (data.byteLength === 0) return { corrupt: 'empty record' };
  // Parsed by hand rather than with a regular expression: every read goes through here.
  const limit = Math.min(data.byteLength, MAX_HEADER_BYTES);
  let end = 0;
  while (end < limit && data[end] !== NEWLINE) end += 1;
  if (end === limit) return { corrupt: 'no record header' };
  for (let index = 0; index < MAGIC.length; index += 1) {
    if (data[index] !== MAGIC.charCodeAt(index)) return MALFORMED;
  }
  const expiresAt = numberAt(data, MAGIC.length, 16);
  if (expiresAt < 0) return MALFORMED;
  const flag = data[numberEnd + 1];
  if ((flag !== 0x65 && flag !== 0x2d) || data[numberEnd + 2] !== SPACE) return MALFORMED;
  const length = numberAt(data, numberEnd + 3, 15);
  const digestStart = numberEnd + 1;
  if (length < 0) return MALFORMED;
  const payload = data.subarray(end + 1);
  // The digest field ends at the id field's space, or at the newline.
  let digestEnd = digestStart;
  while (digestEnd < end && data[digestEnd] !== SPACE) digestEnd += 1;
  const id = digestEnd < end ? idIn(data, digestEnd + 1, end) : undefined;
  if (id === null) return MALFORMED;
  const hashed = digestEnd - digestStart !== 1 || data[digestStart] !== NO_DIGEST.charCodeAt(0);
  if (hashed) {
    if (digestEnd - digestStart !== DIGEST_CHARS) return MALFORMED;
    for (let index = digestStart; index < digestEnd; index += 1) {
      if (BASE64URL[data[index] as number] !== 1) return MALFORMED;
    }
  }
  if (payload.byteLength !== length) {
    return { corrupt: `truncated record: ${payload.byteLength} of ${length} payload bytes` };
  }
  const cookieExpires = flag === 0x65;
  if (!hashed) return { expiresAt, cookieExpires, digest: undefined, id, payload };
  const digest = carries(data, digestStart, verifiedDigest)
    ? (verifiedDigest as string)
    : latin1.decode(data.subarray(digestStart, digestEnd));
  if (digest !== verifiedDigest && digestOf(payload) !== digest) {
    return { corrupt: 'record digest mismatch' };
  }
  return { expiresAt, cookieExpires, digest, id, payload };
}

/**
 * The id held in `data[start, end)` (base64url of UTF-8), or `null` when that is not one.
 */
function idIn(data: Uint8Array, start: number, end: number): string | null {
  for (let index = start; index < end; index += 1) {
    if (BASE64URL[data[index] as number] !== 1) return null;
  }
  const bytes = Buffer.from(latin1.decode(data.subarray(start, end)), 'base64url');
  if (bytes.byteLength === 0) return null;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** The header room a record needs besides its payload (more when it holds a long id). */
export function headerRoom(id?: string): number {
  return id === undefined
    ? BASE_HEADER_BYTES
    : BASE_HEADER_BYTES + Math.ceil((Buffer.byteLength(id) * 4) / 3) + 1;
}
