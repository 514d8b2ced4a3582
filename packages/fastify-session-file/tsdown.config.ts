import { defineConfig } from 'tsdown';
import { packageBuild } from '../../tsdown.base.ts';

export default defineConfig({
  ...packageBuild,
  // `require()` hands back the plugin itself, carrying every export as a property, as
  // @fastify/session does: `app.register(require(…))` and `import x = require(…)` then
  // register the plugin; commonjs.d.cts declares that shape.
  footer: ({ format }) =>
    format === 'cjs'
      ? { js: 'module.exports = Object.assign(exports.fastifySessionFile, exports);' }
      : undefined,
  // Silences rolldown's warning that CommonJS users of mixed exports must reach for
  // `.default`: with the footer above, they need not.
  outputOptions: { exports: 'named' },
});
