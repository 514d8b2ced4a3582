import { defineConfig } from 'tsdown';
import { packageBuild } from '../../tsdown.base.ts';

// ESM only: vitest, which every consumer of the suite runs it in, cannot be require()d.
export default defineConfig({ ...packageBuild, format: ['esm'] });
