import { randomUUID } from 'node:crypto';
import { runAdapterSuite } from '@sessionfs/adapter-test-suite';
import { startCluster } from '@sessionfs/test-redis-server';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisAdapter } from '../src/index.js';

const cluster = await startCluster(3);
afterAll(() => cluster.destroy());
const nodes = cluster.servers.map((server) => ({ host: '127.0.0.1', port: server.port }));

runAdapterSuite('redis cluster', {
  create: () => createRedisAdapter({ nodes, prefix: `t-${randomUUID()}:` }),
  manyKeys: 3_000,
});

describe('on a 3-master cluster', () => {
  it('spreads keys over every master and lists them all', async () => {
    const prefix = `spread-${randomUUID()}:`;
    const adapter = createRedisAdapter({ nodes, prefix });
    try {
      const keys = Array.from({ length: 300 }, (_, i) => `s.k${i}`);
      await Promise.all(keys.map((key) => adapter.write(key, new Uint8Array([1]))));
      const perMaster = await Promise.all(
        cluster.servers.map(async (server) => {
          const direct = await createClient({ url: `redis://127.0.0.1:${server.port}` }).connect();
          try {
            return (await direct.keys(`${prefix}*`)).length;
          } finally {
            direct.destroy();
          }
        }),
      );
      expect(perMaster.every((count) => count > 0)).toBe(true);
      expect(perMaster.reduce((a, b) => a + b, 0)).toBe(300);
      const listed = new Set<string>();
      for await (const key of adapter.list('s.')) listed.add(key);
      expect([...listed].sort()).toEqual([...keys].sort());
    } finally {
      await adapter.close();
    }
  });
});
