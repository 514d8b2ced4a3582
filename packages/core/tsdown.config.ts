import { defineConfig } from 'tsdown';
import { packageBuild } from '../../tsdown.base.ts';

export default defineConfig({
  ...packageBuild,
  // The store API, and the adapter author's entry beside it.
  entry: { index: 'src/index.ts', adapter: 'src/adapter-api.ts' },
});
