import { describe, expect, it } from 'vitest';
import { SessionTable } from '../src/session-table.js';

describe('SessionTable.payloadOf', () => {
  // A view into Node's shared 8 KiB pool, or into a whole record read, would keep all of
  // that alive for as long as the entry lives, beyond what the cache's byte bound counts.
  const ownsItsMemory = (payload: Uint8Array | undefined) =>
    payload !== undefined &&
    payload.byteOffset === 0 &&
    payload.buffer.byteLength === payload.byteLength;

  it('with the cache on, keeps text as UTF-8 in a buffer of its own', () => {
    const table = new SessionTable(10, 1_000_000, true);
    const payload = table.payloadOf('{"views":1,"name":"zoë"}');
    expect(ownsItsMemory(payload)).toBe(true);
    expect(Buffer.from(payload as Uint8Array).toString('utf8')).toBe('{"views":1,"name":"zoë"}');
  });

  it('with the cache on, copies a view into a larger buffer', () => {
    const table = new SessionTable(10, 1_000_000, true);
    const record = Buffer.from('header line\n{"views":2}');
    const payload = table.payloadOf(record.subarray(12));
    expect(ownsItsMemory(payload)).toBe(true);
    expect(Buffer.from(payload as Uint8Array).toString('utf8')).toBe('{"views":2}');
  });

  it('with the cache off, keeps nothing', () => {
    expect(new SessionTable(10, 1_000_000, false).payloadOf('{"views":3}')).toBeUndefined();
  });
});
