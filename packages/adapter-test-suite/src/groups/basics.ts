import { ErrorCodes } from '@sessionfs/core/adapter';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { bytes, collect, expectCode, patterned, readData, sameBytes } from '../support.js';

/** What every adapter does: read, write, delete, and the `maxBytes` bound of a read. */
export function describeBasics({ currentAdapter }: SuiteContext): void {
  describe('read and write', () => {
    it('reads a missing key as null', async () => {
      expect(await currentAdapter().read('missing')).toBeNull();
    });

    it('round-trips a value as a Uint8Array', async () => {
      const adapter = currentAdapter();
      await adapter.write('k1', bytes('hello'));
      const value = await adapter.read('k1');
      expect(value?.data).toBeInstanceOf(Uint8Array);
      expect(new TextDecoder().decode(value?.data)).toBe('hello');
      expect(value?.size).toBe(5);
    });

    it('write resolves an object, {} or { version }, never nothing', async () => {
      const adapter = currentAdapter();
      const results: unknown[] = [
        await adapter.write('k', bytes('first')),
        await adapter.write('k', bytes('second'), { expiresAt: Date.now() + 60_000 }),
      ];
      for (const result of results) {
        expect(result).toBeTypeOf('object');
        expect(result).not.toBeNull();
        const { version } = result as { version?: unknown };
        if (version !== undefined) expect(version).toBeTypeOf('string');
      }
    });

    it('is binary-safe: every byte value, the empty value, and 1 MB', async () => {
      const adapter = currentAdapter();
      const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
      const megabyte = patterned(1024 * 1024, 7);
      await adapter.write('every-byte', everyByte);
      await adapter.write('empty', new Uint8Array(0));
      await adapter.write('megabyte', megabyte);
      expect(sameBytes(await readData(adapter, 'every-byte'), everyByte)).toBe(true);
      const empty = await readData(adapter, 'empty');
      expect(empty).not.toBeNull();
      expect(empty?.byteLength).toBe(0);
      expect(sameBytes(await readData(adapter, 'megabyte'), megabyte)).toBe(true);
    });

    it('replaces the whole value on overwrite (no tail of a longer previous value)', async () => {
      const adapter = currentAdapter();
      await adapter.write('k', patterned(4096, 1));
      await adapter.write('k', bytes('short'));
      expect(sameBytes(await readData(adapter, 'k'), bytes('short'))).toBe(true);
    });

    it('keeps the stored value when the caller reuses its buffer after write', async () => {
      const adapter = currentAdapter();
      const buffer = bytes('original');
      await adapter.write('k', buffer);
      buffer.fill(0);
      expect(sameBytes(await readData(adapter, 'k'), bytes('original'))).toBe(true);
    });

    it('keeps the stored value when the caller mutates what read returned', async () => {
      const adapter = currentAdapter();
      await adapter.write('k', bytes('original'));
      const first = await readData(adapter, 'k');
      first?.fill(0);
      expect(sameBytes(await readData(adapter, 'k'), bytes('original'))).toBe(true);
    });

    it('keeps keys apart', async () => {
      const adapter = currentAdapter();
      await adapter.write('a', bytes('A'));
      await adapter.write('b', bytes('B'));
      expect(sameBytes(await readData(adapter, 'a'), bytes('A'))).toBe(true);
      expect(sameBytes(await readData(adapter, 'b'), bytes('B'))).toBe(true);
    });
  });

  describe('delete', () => {
    it('removes a value', async () => {
      const adapter = currentAdapter();
      await adapter.write('k', bytes('v'));
      await adapter.delete('k');
      expect(await adapter.read('k')).toBeNull();
      expect(await collect(adapter.list(''))).toEqual([]);
    });

    it('is idempotent, and resolves whether a value was there', async () => {
      const adapter = currentAdapter();
      expect(await adapter.delete('never-written')).toBe(false);
      await adapter.write('k', bytes('v'));
      expect(await adapter.delete('k')).toBe(true);
      expect(await adapter.delete('k')).toBe(false);
      expect(await adapter.read('k')).toBeNull();
    });

    it('leaves other keys alone', async () => {
      const adapter = currentAdapter();
      await adapter.write('keep', bytes('v'));
      await adapter.write('drop', bytes('v'));
      await adapter.delete('drop');
      expect(await collect(adapter.list(''))).toEqual(['keep']);
    });
  });

  describe('read bound', () => {
    it('rejects with ERR_TOO_LARGE instead of reading past maxBytes', async () => {
      const adapter = currentAdapter();
      await adapter.write('big', patterned(10_000, 3));
      await expectCode(adapter.read('big', { maxBytes: 9_999 }), ErrorCodes.TOO_LARGE);
      expect((await readData(adapter, 'big', { maxBytes: 10_000 }))?.byteLength).toBe(10_000);
      expect(await adapter.read('absent', { maxBytes: 1 })).toBeNull();
    });
  });
}
