import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAdapterSuite } from '@sessionfs/adapter-test-suite';
import { createNodeAdapter, type NodeAdapter, type NodeAdapterOptions } from '../src/index.js';

const options = (io: Omit<NodeAdapterOptions, 'dir'>) => ({
  create: async () =>
    createNodeAdapter({ dir: join(await mkdtemp(join(tmpdir(), 'sessionfs-')), 's'), ...io }),
  destroy: (adapter: NodeAdapter) => rm(join(adapter.dir, '..'), { recursive: true, force: true }),
});

runAdapterSuite('node', options({}));
runAdapterSuite('node, flat layout', options({ layout: 'flat' }));
runAdapterSuite('node, synchronous writes', { ...options({ sync: 'all' }), manyKeys: 2_000 });
runAdapterSuite('node, asynchronous reads', { ...options({ sync: 'none' }), manyKeys: 2_000 });
runAdapterSuite('node with fsync', { ...options({ fsync: true }), manyKeys: 2_000 });
