import type { UserConfig } from 'tsdown';

/**
 * One build for every published package: ESM for modern apps, CommonJS for the many
 * Fastify apps that still `require()`, each with its own declaration files.
 */
export const packageBuild: UserConfig = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  platform: 'node',
  target: 'node20',
  dts: true,
  sourcemap: true,
  clean: true,
};
