import { runAdapterSuite } from '@sessionfs/adapter-test-suite';
import { createMemoryAdapter } from '../src/index.js';

runAdapterSuite('memory', { create: () => createMemoryAdapter() });
