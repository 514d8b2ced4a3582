import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAdapterSuite } from '@sessionfs/adapter-test-suite';
import { createNodeAdapter, type NodeAdapter } from '../src/index.js';

const options = (fsync: boolean) => ({
  create: async () =>
    createNodeAdapter({ dir: join(await mkdtemp(join(tmpdir(), 'sessionfs-')), 's'), fsync }),
  destroy: (adapter: NodeAdapter) => rm(join(adapter.dir, '..'), { recursive: true, force: true }),
});

runAdapterSuite('node', options(false));
runAdapterSuite('node with fsync', { ...options(true), manyKeys: 2_000 });
