// A plain CommonJS app: require() every runtime package and use it.
const { SessionStoreError, ErrorCodes } = require('@sessionfs/core');
const { createNodeAdapter } = require('@sessionfs/adapter-node');
const { createMemoryAdapter } = require('@sessionfs/adapter-memory');
const sessionFile = require('@sessionfs/fastify-session-file');
const Fastify = require('fastify');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { basename, join } = require('node:path');

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
    console.log(`plugin: views ${await countVisits(join(root, 'plugin'))}`);
    console.log(`FileStore: ${await roundTrip(new sessionFile.FileStore(join(root, 'store')))}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// The Fastify plugin as CommonJS apps register it: the module itself, which is the
// plugin, with a counter that must reach 2 over two requests.
async function countVisits(dir) {
  const app = Fastify();
  app.register(sessionFile, {
    secret: 'a CommonJS secret of at least 32 characters',
    cookie: { secure: false },
    store: { dir },
  });
  app.get('/', async (request) => {
    request.session.views = (request.session.views || 0) + 1;
    return { views: request.session.views };
  });
  let cookies = {};
  let views;
  for (let visit = 0; visit < 2; visit += 1) {
    const response = await app.inject({ url: '/', cookies });
    cookies = { sessionId: response.cookies[0].value };
    views = response.json().views;
  }
  await app.close();
  return views;
}

// The drop-in store with @fastify/session's callback API.
async function roundTrip(store) {
  const session = { cookie: { originalMaxAge: 60_000 }, greeting: 'hello' };
  await new Promise((resolve, reject) =>
    store.set('cjs', session, (error) => (error ? reject(error) : resolve())),
  );
  const read = await new Promise((resolve, reject) =>
    store.get('cjs', (error, value) => (error ? reject(error) : resolve(value))),
  );
  const file = basename(store.sessionFile('cjs'));
  await store.close();
  return `${read.greeting} in ${file}`;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
