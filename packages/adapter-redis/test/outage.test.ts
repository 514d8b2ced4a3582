import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSessionStore, ErrorCodes, hasErrorCode } from '@sessionfs/core';
import { RedisServer } from '@sessionfs/test-redis-server';
import { afterAll, expect, it } from 'vitest';
import { createRedisAdapter } from '../src/index.js';

const server = await RedisServer.start();
afterAll(() => server.destroy());

/** Milliseconds `operation` took to settle, and how it settled. */
async function timed(operation: () => Promise<unknown>) {
  const started = performance.now();
  const outcome = await operation().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  return { ...outcome, ms: Math.round(performance.now() - started) };
}

/** Retries `write` every 100 ms for up to 15 s; ms until it succeeded, or -1. */
async function untilWritten(write: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < 15_000) {
    if ((await timed(write)).ok) return Math.round(performance.now() - started);
    await sleep(100);
  }
  return -1;
}

it('fails fast with ERR_UNAVAILABLE while Redis is down and recovers by itself', async () => {
  const adapter = createRedisAdapter({
    url: server.url,
    prefix: `outage-${randomUUID()}:`,
    timeout: 1_000,
  });
  const store = createSessionStore({ adapter, reapInterval: false });
  try {
    // The first write connects too, which a loaded machine may take past the 1 s timeout.
    expect(await untilWritten(() => store.set('visitor', { views: 1 }))).toBeGreaterThanOrEqual(0);
    expect(await store.get('visitor')).toEqual({ views: 1 });

    await server.stop();
    const failures = [];
    for (const operation of [
      () => store.get('visitor'),
      () => store.set('visitor', { views: 2 }),
      () => store.destroy('visitor'),
      () => store.get('visitor'),
    ]) {
      const result = await timed(operation);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(hasErrorCode(result.error, ErrorCodes.UNAVAILABLE)).toBe(true);
      // Bounded: the 1 s timeout plus scheduling slack, never a hang.
      expect(result.ms).toBeLessThan(2_500);
      failures.push(result.ms);
    }

    await server.restart();
    const recoveredAfter = await untilWritten(() => store.set('visitor', { views: 3 }));
    expect(recoveredAfter).toBeGreaterThanOrEqual(0);
    expect(await store.get('visitor')).toEqual({ views: 3 });
    console.log(
      `redis outage timeline: failures took ${failures.join(', ')} ms; recovered ${recoveredAfter} ms after the restart`,
    );
  } finally {
    await store.close();
  }
}, 60_000);
