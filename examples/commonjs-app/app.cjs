// A plain CommonJS app: require() every runtime package and use it.
const { SessionStoreError, ErrorCodes } = require('@sessionfs/core');
const { createNodeAdapter } = require('@sessionfs/adapter-node');
const { createMemoryAdapter } = require('@sessionfs/adapter-memory');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'sessionfs-cjs-'));
  try {
    for (const adapter of [createNodeAdapter({ dir: join(root, 's') }), createMemoryAdapter()]) {
      await adapter.write('cjs', Buffer.from('hello from require()'));
      console.log(Buffer.from((await adapter.read('cjs')).data).toString());
      await adapter.close();
      const error = await adapter.read('cjs').catch((e) => e);
      if (!SessionStoreError.isInstance(error) || error.code !== ErrorCodes.CLOSED) {
        throw new Error('expected ERR_CLOSED after close');
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
