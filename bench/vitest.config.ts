import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.ts';

// The benchmark is plain JavaScript, and so are its tests.
export default mergeConfig(shared, defineProject({ test: { include: ['test/**/*.test.mjs'] } }));
