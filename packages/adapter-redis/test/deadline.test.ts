import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { createSessionStore, ErrorCodes, hasErrorCode } from '@sessionfs/core';
import { RedisServer } from '@sessionfs/test-redis-server';
import { afterAll, expect, it } from 'vitest';
import { createRedisAdapter } from '../src/index.js';

// A server that accepts connections and never answers: a Redis that hangs (stopped with
// SIGSTOP, swapping, behind a stuck proxy) rather than one that is down.
const sockets = new Set<Socket>();
const silent = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
silent.listen(0, '127.0.0.1');
await once(silent, 'listening');
const { port } = silent.address() as { port: number };
afterAll(() => {
  for (const socket of sockets) socket.destroy();
  silent.close();
});

const TIMEOUT_MS = 300;

async function drain(keys: AsyncIterable<string>): Promise<void> {
  for await (const _ of keys);
}

it('fails every operation with ERR_UNAVAILABLE within its timeout when Redis never answers', async () => {
  const adapter = createRedisAdapter({ url: `redis://127.0.0.1:${port}`, timeout: TIMEOUT_MS });
  try {
    const started = performance.now();
    const outcomes = await Promise.all(
      [
        () => adapter.read('s.a'),
        () => adapter.write('s.a', new Uint8Array([1])),
        () => adapter.touch('s.a', Date.now() + 60_000),
        () => adapter.stat('s.a'),
        () => adapter.delete('s.a'),
        () => drain(adapter.list('s.')),
      ].map((operation) =>
        operation().then(
          () => ({ failed: false, ms: performance.now() - started, error: undefined }),
          (error: unknown) => ({ failed: true, ms: performance.now() - started, error }),
        ),
      ),
    );
    for (const outcome of outcomes) {
      expect(outcome.failed).toBe(true);
      expect(hasErrorCode(outcome.error, ErrorCodes.UNAVAILABLE)).toBe(true);
      // Not before the timeout, and within the watch's period (a quarter of it) after it,
      // plus scheduling slack.
      expect(outcome.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(outcome.ms).toBeLessThan(TIMEOUT_MS * 1.25 + 250);
    }
  } finally {
    await adapter.close();
  }
}, 10_000);

it('fails an operation as soon as the event loop is free again when it was blocked past the timeout', async () => {
  const adapter = createRedisAdapter({ url: `redis://127.0.0.1:${port}`, timeout: TIMEOUT_MS });
  try {
    const started = performance.now();
    const outcome = adapter.read('s.a').then(
      () => Number.NaN,
      () => performance.now() - started,
    );
    // Synchronous work three timeouts long: the watch's checks due meanwhile run once, late.
    while (performance.now() - started < 3 * TIMEOUT_MS) {
      // busy
    }
    // At the first check after the block, not checks later (a watch counting its runs
    // instead of reading the time would take four more periods, 1,200 ms in all).
    expect(await outcome).toBeLessThan(3 * TIMEOUT_MS + TIMEOUT_MS / 4 + 100);
  } finally {
    await adapter.close();
  }
}, 10_000);

it('fails operations within the timeout while a connected Redis hangs, and serves again once it answers', async () => {
  const server = await RedisServer.start();
  const adapter = createRedisAdapter({
    url: server.url,
    prefix: `hang-${randomUUID()}:`,
    timeout: TIMEOUT_MS,
  });
  const store = createSessionStore({ adapter, reapInterval: false });
  try {
    // Connected and answering first: on a loaded machine the connection alone can take
    // longer than the timeout, which is not what this test is about.
    await expect
      .poll(
        () =>
          store.set('visitor', { views: 1 }).then(
            () => true,
            () => false,
          ),
        { timeout: 5_000 },
      )
      .toBe(true);
    server.pause();
    const failures: number[] = [];
    try {
      for (const operation of [
        () => store.get('visitor'),
        () => store.set('visitor', { views: 2 }),
        () => store.destroy('visitor'),
        () => store.count(),
      ]) {
        const started = performance.now();
        const error = await operation().then(
          () => undefined,
          (failure: unknown) => failure,
        );
        const ms = performance.now() - started;
        expect(hasErrorCode(error, ErrorCodes.UNAVAILABLE)).toBe(true);
        expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
        expect(ms).toBeLessThan(TIMEOUT_MS * 1.25 + 250);
        failures.push(Math.round(ms));
      }
    } finally {
      server.resume();
    }
    const resumed = performance.now();
    // The operations reported failed may still run once Redis answers (they were sent);
    // what comes after them is served.
    await expect
      .poll(() =>
        store.set('visitor', { views: 3 }).then(
          () => true,
          () => false,
        ),
      )
      .toBe(true);
    expect(await store.get('visitor')).toMatchObject({ views: 3 });
    console.log(
      `redis hang timeline (timeout ${TIMEOUT_MS} ms): get, set, destroy, count failed after ${failures.join(', ')} ms; served again ${Math.round(performance.now() - resumed)} ms after the server resumed`,
    );
  } finally {
    await store.close();
    await server.destroy();
  }
}, 10_000);

it('closes within the timeout while Redis hangs', async () => {
  const server = await RedisServer.start();
  const adapter = createRedisAdapter({ url: server.url, timeout: TIMEOUT_MS });
  try {
    await adapter.write('s.a', new Uint8Array([1]));
    server.pause();
    // A reply now due that a hung Redis never sends.
    const pending = adapter.read('s.a').catch(() => {});
    const started = performance.now();
    await adapter.close();
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 250);
    await pending;
  } finally {
    server.resume();
    await server.destroy();
  }
}, 10_000);
