import { randomUUID } from 'node:crypto';
import { runAdapterSuite } from '@sessionfs/adapter-test-suite';
import { RedisServer } from '@sessionfs/test-redis-server';
import { afterAll } from 'vitest';
import { createRedisAdapter } from '../src/index.js';

const server = await RedisServer.start();
afterAll(() => server.destroy());

runAdapterSuite('redis', {
  create: () => createRedisAdapter({ url: server.url, prefix: `t-${randomUUID()}:` }),
});

// What the adapter remembers of its own reads and writes must never show in what it reports.
runAdapterSuite('redis, clientSideCache', {
  create: () =>
    createRedisAdapter({ url: server.url, prefix: `t-${randomUUID()}:`, clientSideCache: true }),
});
