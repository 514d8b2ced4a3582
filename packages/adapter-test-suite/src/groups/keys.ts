import { ErrorCodes, KEY_ALPHABET, MAX_KEY_LENGTH } from '@sessionfs/core/adapter';
import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { bytes, collect, expectCode, readData, sameBytes } from '../support.js';

/** The key rules: the whole alphabet and the longest key work, anything else is refused. */
export function describeKeys({ currentAdapter }: SuiteContext): void {
  describe('keys', () => {
    it('accepts every character of the key alphabet, at the start and inside a key', async () => {
      const adapter = currentAdapter();
      const starters = [...KEY_ALPHABET].filter((c) => /[a-z0-9]/.test(c));
      const written = new Map<string, string>();
      for (const c of KEY_ALPHABET) written.set(`k${c}k`, c);
      for (const c of starters) written.set(`${c}`, `start-${c}`);
      for (const [key, value] of written) await adapter.write(key, bytes(value));
      for (const [key, value] of written) {
        expect(sameBytes(await readData(adapter, key), bytes(value)), key).toBe(true);
      }
      expect((await collect(adapter.list(''))).sort()).toEqual([...written.keys()].sort());
    });

    it(`accepts a key of ${MAX_KEY_LENGTH} characters`, async () => {
      const adapter = currentAdapter();
      const key = `${'a'.repeat(MAX_KEY_LENGTH - 1)}z`;
      await adapter.write(key, bytes('long'));
      expect(sameBytes(await readData(adapter, key), bytes('long'))).toBe(true);
      expect(await collect(adapter.list(''))).toEqual([key]);
    });

    it('rejects keys outside the alphabet with ERR_INVALID_KEY, asynchronously', async () => {
      const adapter = currentAdapter();
      const bad = [
        '',
        '../escape',
        'a/b',
        'a\\b',
        '.hidden',
        'Upper',
        'nul\0',
        'é',
        'a'.repeat(MAX_KEY_LENGTH + 1),
      ];
      for (const key of bad) {
        let promise: Promise<unknown> | undefined;
        expect(() => {
          promise = adapter.write(key, bytes('x'));
        }).not.toThrow();
        await expectCode(promise as Promise<unknown>, ErrorCodes.INVALID_KEY);
        await expectCode(adapter.read(key), ErrorCodes.INVALID_KEY);
        await expectCode(adapter.delete(key), ErrorCodes.INVALID_KEY);
      }
      expect(await collect(adapter.list(''))).toEqual([]);
    });
  });
}
