import { runAdapterSuite } from '@sessionfs/adapter-test-suite';
import { ErrorCodes, hasErrorCode } from '@sessionfs/core';
import { describe, expect, it } from 'vitest';
import { createFaultyAdapter } from '../src/index.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: { data: Uint8Array } | null) =>
  value ? new TextDecoder().decode(value.data) : null;

// Without faults it is the adapter it wraps.
runAdapterSuite('faulty (no fault injected)', {
  create: () => createFaultyAdapter(),
  manyKeys: 2_000,
});

describe('createFaultyAdapter', () => {
  it.each([
    ['EIO', ErrorCodes.IO],
    ['ENOSPC', ErrorCodes.NO_SPACE],
    ['EACCES', ErrorCodes.PERMISSION],
    ['EMFILE', ErrorCodes.IO],
  ] as const)(
    'fails with %s as the typed error a real adapter gives, and changes nothing',
    async (kind, code) => {
      const adapter = createFaultyAdapter();
      await adapter.write('k', bytes('before'));
      adapter.inject({ kind, operations: ['write'] });
      const error = await adapter.write('k', bytes('after')).catch((e: unknown) => e);
      expect(hasErrorCode(error, code)).toBe(true);
      expect((error as Error).cause).toMatchObject({ code: kind });
      expect(text(await adapter.read('k'))).toBe('before');
      adapter.heal();
      await adapter.write('k', bytes('after'));
      expect(text(await adapter.read('k'))).toBe('after');
    },
  );

  it('hits exactly the chosen call', async () => {
    const adapter = createFaultyAdapter();
    adapter.inject({ kind: 'EIO', operations: ['read'], at: 3 });
    const outcomes = [];
    for (let i = 0; i < 5; i += 1)
      outcomes.push(
        await adapter.read('k').then(
          () => 'ok',
          () => 'failed',
        ),
      );
    expect(outcomes).toEqual(['ok', 'ok', 'failed', 'ok', 'ok']);
    expect(adapter.hits).toBe(1);
    expect(adapter.calls.read).toBe(5);
  });

  it('hits at random, the same way for the same seed', async () => {
    const run = async () => {
      const adapter = createFaultyAdapter({ seed: 42 });
      adapter.inject({ kind: 'EIO', probability: 0.3 });
      const outcomes = [];
      for (let i = 0; i < 50; i += 1)
        outcomes.push(
          await adapter.stat?.('k').then(
            () => 0,
            () => 1,
          ),
        );
      return outcomes;
    };
    const first = await run();
    expect(first).toEqual(await run());
    const failures = first.reduce((a: number, b) => a + (b ?? 0), 0);
    expect(failures).toBeGreaterThan(5);
    expect(failures).toBeLessThan(30);
  });

  it('delays calls, and stops after `times` hits', async () => {
    const adapter = createFaultyAdapter();
    adapter.inject({ kind: 'delay', delayMs: 120, times: 1 });
    let started = performance.now();
    await adapter.read('k');
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    started = performance.now();
    await adapter.read('k');
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('fails a listing before it yields anything', async () => {
    const adapter = createFaultyAdapter();
    await adapter.write('k', bytes('v'));
    adapter.inject({ kind: 'EIO', operations: ['list'], times: 1 });
    const listed: string[] = [];
    const error = await (async () => {
      for await (const key of adapter.list('')) listed.push(key);
    })().catch((e: unknown) => e);
    expect(hasErrorCode(error, ErrorCodes.IO)).toBe(true);
    expect(listed).toEqual([]);
  });
});
