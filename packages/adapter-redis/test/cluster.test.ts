import { randomUUID } from 'node:crypto';
import { runAdapterSuite } from '@sessionfs/adapter-test-suite';
import { sessionKey } from '@sessionfs/core';
import { startCluster } from '@sessionfs/test-redis-server';
import { createClient } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisAdapter } from '../src/index.js';
import { expectEachReadToSeeTheOtherWrite, twoInstances } from './two-instances.js';

const cluster = await startCluster(3);
afterAll(() => cluster.destroy());
const nodes = cluster.servers.map((server) => ({ host: '127.0.0.1', port: server.port }));

runAdapterSuite('redis cluster', {
  create: () => createRedisAdapter({ nodes, prefix: `t-${randomUUID()}:` }),
  manyKeys: 3_000,
});

runAdapterSuite('redis cluster, clientSideCache', {
  create: () => createRedisAdapter({ nodes, prefix: `t-${randomUUID()}:`, clientSideCache: true }),
  manyKeys: 3_000,
});

/** Session ids whose keys under `prefix` live two on each master, as Redis places them. */
async function twoIdsPerMaster(prefix: string): Promise<string[]> {
  const probe = await createClient({ url: `redis://127.0.0.1:${nodes[0]?.port}` }).connect();
  try {
    const ranges = (await probe.sendCommand(['CLUSTER', 'SLOTS'])) as [number, number, unknown][];
    const ids = new Map<number, string[]>(ranges.map((_, master) => [master, []]));
    for (let i = 0; ids.size > 0 && [...ids.values()].some((on) => on.length < 2); i += 1) {
      if (i === 1_000) throw new Error('no two ids per master among 1,000');
      const id = `visitor-${i}`;
      const slot = Number(await probe.sendCommand(['CLUSTER', 'KEYSLOT', prefix + sessionKey(id)]));
      const on = ids.get(ranges.findIndex(([from, to]) => slot >= from && slot <= to));
      if (on !== undefined && on.length < 2) on.push(id);
    }
    return [...ids.values()].flat();
  } finally {
    probe.destroy();
  }
}

describe('on a 3-master cluster', () => {
  it('shows each instance the other instance’s last save or destroy on its very next read, on every master', async () => {
    const prefix = `two-${randomUUID()}:`;
    const ids = await twoIdsPerMaster(prefix);
    expect(ids).toHaveLength(6);
    const stores = twoInstances({ nodes }, prefix);
    try {
      await expectEachReadToSeeTheOtherWrite(stores, 240, ids);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  }, 30_000);

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
