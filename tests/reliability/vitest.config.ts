import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// One file at a time: the groups start processes, kill them, and load a server, and on a
// two-core machine they would mostly measure each other.
export default mergeConfig(shared, defineProject({ test: { fileParallelism: false } }));
