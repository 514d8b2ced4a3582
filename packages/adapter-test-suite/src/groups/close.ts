import { ErrorCodes } from '@sessionfs/core/adapter';
import { describe, it } from 'vitest';
import type { SuiteContext } from '../context.js';
import { bytes, collect, expectCode } from '../support.js';

/** `close`: idempotent, and every method the adapter has fails afterwards. */
export function describeClose({ currentAdapter, support }: SuiteContext): void {
  describe('close', () => {
    if (!support.close) return;

    it('rejects every operation with ERR_CLOSED after close, and closes twice', async () => {
      const adapter = currentAdapter();
      await adapter.write('k', bytes('v'));
      await adapter.close?.();
      await adapter.close?.();
      await expectCode(adapter.read('k'), ErrorCodes.CLOSED);
      await expectCode(adapter.write('k', bytes('w')), ErrorCodes.CLOSED);
      await expectCode(adapter.delete('k'), ErrorCodes.CLOSED);
      await expectCode(collect(adapter.list('')), ErrorCodes.CLOSED);
      if (adapter.stat) await expectCode(adapter.stat('k'), ErrorCodes.CLOSED);
      if (adapter.touch) await expectCode(adapter.touch('k', Date.now()), ErrorCodes.CLOSED);
      if (adapter.move) await expectCode(adapter.move('k', 'j'), ErrorCodes.CLOSED);
    });
  });
}
