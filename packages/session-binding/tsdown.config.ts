import { defineConfig } from 'tsdown';
import { packageBuild } from '../../tsdown.base.ts';

export default defineConfig({
  ...packageBuild,
  // The binding author's API, and the names every binding re-exports to its users.
  entry: { index: 'src/index.ts', public: 'src/public.ts' },
});
