import {
  type AdapterStat,
  PROCESS_TOKEN,
  PROCESS_TOKEN_HEX,
  type StoredValue,
  tooLargeError,
} from '@sessionfs/core/adapter';
import { ADAPTER } from './errors.js';

/**
 * Every value is stored behind a 20-byte header: a 12-byte tag naming the write, then the
 * expiry (float64, big-endian, epoch ms; -1 for none).
 *
 * - The tag is the version the store asks about. Redis keeps no per-key version, and a
 *   digest of the bytes would cost a hash of the whole value on every read, write and
 *   guarded touch (in Redis too, inside the script); the tag is compared by reading its
 *   12 bytes. It is this process's random token (8 bytes, drawn once) and a counter
 *   (4 bytes), so no two writes share one.
 * - The expiry is the one Redis enforces (`PXAT`, `PEXPIREAT`), kept beside the data so
 *   that a read is one `GET`, not `GET` and `PEXPIRETIME`; `touch` moves both in one
 *   script. (A TTL changed behind the adapter's back, by `PERSIST` say, is not seen.)
 */
export const TAG_BYTES = 12;
export const HEADER_BYTES = TAG_BYTES + 8;
const NO_EXPIRY = -1;
let writeCounter = 0;

/**
 * An expiry as Redis (`PXAT`, `PEXPIREAT`) takes it, and the header then keeps the same:
 * a positive integer; a past time makes the value expire at once.
 */
export function redisTime(expiresAt: number): number {
  return Math.max(1, Math.round(expiresAt));
}

/**
 * Writes the header of a new write at the start of `value` (a fresh tag, then the expiry)
 * and returns the tag as the version, in hex as `versionIn` reads it back.
 */
export function writeHeader(value: Buffer, expiresAt: number | undefined): string {
  value.set(PROCESS_TOKEN, 0);
  writeCounter = (writeCounter + 1) >>> 0;
  value.writeUInt32BE(writeCounter, 8);
  value.writeDoubleBE(expiresAt ?? NO_EXPIRY, TAG_BYTES);
  return PROCESS_TOKEN_HEX + writeCounter.toString(16).padStart(8, '0');
}

/** The expiry as the header holds it: 8 bytes, float64 big-endian. */
export function expiryBytes(expiresAt: number): Buffer {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeDoubleBE(expiresAt, 0);
  return bytes;
}

/** Whether `stored` begins with a header (every value the adapter writes does). */
export function hasHeader(stored: Buffer): boolean {
  return stored.byteLength >= HEADER_BYTES;
}

/** The version a header names: its tag, as hex. */
function versionIn(stored: Buffer): string {
  return stored.toString('hex', 0, TAG_BYTES);
}

/** The expiry a header holds, or `undefined` for none. */
function expiryIn(stored: Buffer): number | undefined {
  const expiresAt = stored.readDoubleBE(TAG_BYTES);
  return expiresAt >= 0 ? expiresAt : undefined;
}

/** The stored value, as `read` hands it to the store; `null` when there is none. */
export function storedValue(
  key: string,
  stored: Buffer | null,
  maxBytes: number | undefined,
): StoredValue | null {
  // GETRANGE reads a missing key as empty; every value the adapter writes has a header.
  if (stored === null || stored.byteLength === 0) return null;
  // Without a header: not written by this adapter; the store sets it aside.
  const headed = hasHeader(stored);
  const data = headed ? stored.subarray(HEADER_BYTES) : stored;
  // The read stopped one byte past the limit, so the whole size is not known.
  if (maxBytes !== undefined && data.byteLength > maxBytes) {
    throw tooLargeError(ADAPTER, key, maxBytes);
  }
  return {
    data,
    size: data.byteLength,
    version: headed ? versionIn(stored) : undefined,
    expiresAt: headed ? expiryIn(stored) : undefined,
  };
}

/** What `stat` reports of a value of `storedBytes` bytes that begins with `header`. */
export function statOf(storedBytes: number, header: Buffer): AdapterStat {
  const headed = hasHeader(header);
  return {
    size: headed ? storedBytes - HEADER_BYTES : storedBytes,
    version: headed ? versionIn(header) : undefined,
    expiresAt: headed ? expiryIn(header) : undefined,
  };
}
