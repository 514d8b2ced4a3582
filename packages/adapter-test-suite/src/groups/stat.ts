import { describe, expect, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { bytes } from '../support.js';

/** `stat`: the metadata of a value, the same as `read` and `write` report of it. */
export function describeStat({ currentAdapter, support }: SuiteContext): void {
  describe('stat', () => {
    if (!support.stat) return;

    it('reports a missing key as null', async () => {
      expect(await currentAdapter().stat?.('missing')).toBeNull();
    });

    it('reports the size, and a version that changes with the data', async () => {
      const adapter = currentAdapter();
      await adapter.write('k', bytes('12345'));
      const before = await adapter.stat?.('k');
      expect(before?.size).toBe(5);
      await adapter.write('k', bytes('1234567'));
      const after = await adapter.stat?.('k');
      expect(after?.size).toBe(7);
      if (before?.version !== undefined) expect(after?.version).not.toBe(before.version);
      await adapter.delete('k');
      expect(await adapter.stat?.('k')).toBeNull();
    });

    it('write resolves the version that stat then reports, if it resolves one', async () => {
      const adapter = currentAdapter();
      for (const value of ['first', 'second', 'second']) {
        const written = await adapter.write('k', bytes(value));
        const stat = await adapter.stat?.('k');
        if (written.version !== undefined) expect(written.version).toBe(stat?.version);
      }
    });

    it('read reports the same metadata as stat', async () => {
      const adapter = currentAdapter();
      const expiresAt = Date.now() + 120_000;
      await adapter.write('k', bytes('value'), { expiresAt });
      const { data, ...metadata } = (await adapter.read('k')) ?? { data: null };
      expect(data).not.toBeNull();
      expect(metadata).toEqual(await adapter.stat?.('k'));
    });
  });
}
