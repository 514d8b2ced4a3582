// Every contender behind one promise interface: get, set, destroy, close.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Callback store (`@fastify/session` shape) to promises. */
function promisified(store, close = async () => {}) {
  return {
    get: promisify(store.get.bind(store)),
    set: promisify(store.set.bind(store)),
    destroy: promisify(store.destroy.bind(store)),
    close,
  };
}

/**
 * The floor a safe file store can reach: writeFile to a temp name + rename,
 * readFile + JSON.parse. Ids are trusted (the benchmark's are hex).
 */
function bareFileStore(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let counter = 0;
  return {
    async get(id) {
      try {
        return JSON.parse(await readFile(join(dir, id), 'utf8'));
      } catch (error) {
        if (error.code === 'ENOENT') return null;
        throw error;
      }
    },
    async set(id, session) {
      const temp = join(dir, `.${id}.${process.pid}.${counter++}.tmp`);
      await writeFile(temp, JSON.stringify(session), { mode: 0o600 });
      await rename(temp, join(dir, id));
    },
    async destroy(id) {
      await unlink(join(dir, id)).catch((error) => {
        if (error.code !== 'ENOENT') throw error;
      });
    },
    async close() {},
  };
}

async function sessionfs(dir, { layout, ...options } = {}) {
  const { createSessionStore } = await import('@sessionfs/core');
  const { createNodeAdapter } = await import('@sessionfs/adapter-node');
  const store = createSessionStore({
    adapter: createNodeAdapter({ dir, ...(layout ? { layout } : {}) }),
    reapInterval: false,
    logger: silent,
    ...options,
  });
  return {
    get: store.get.bind(store),
    set: store.set.bind(store),
    destroy: store.destroy.bind(store),
    close: () => store.close(),
  };
}

/**
 * session-file-store's options, the same under Fastify and Express: defaults as users have
 * them (five retries on a missing file), minus its console noise and its hourly reaper
 * timer, which would keep the process alive.
 */
export const sessionFileStoreOptions = (dir) => ({ path: dir, logFn: () => {}, reapInterval: -1 });

/** session-file-store adapted the usual way for a non-express framework. */
function sessionFileStore(dir) {
  function Store() {
    EventEmitter.call(this);
  }
  Object.setPrototypeOf(Store.prototype, EventEmitter.prototype);
  const FileStore = require('session-file-store')({ Store });
  const store = promisified(new FileStore(sessionFileStoreOptions(dir)));
  // It reports a missing session as an ENOENT error, which @fastify/session treats as none.
  const get = store.get;
  store.get = (id) =>
    get(id).catch((error) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
  return store;
}

async function itrocks(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { FileStore } = await import('@itrocks/fastify-file-session-store');
  return promisified(new FileStore(dir));
}

function memoryStore() {
  const { MemoryStore } = require('@fastify/session');
  return promisified(new MemoryStore());
}

/**
 * The encryption key of the `sessionfs+encryption` contender: fixed, so that the process
 * that prepares the sessions and those that measure share it.
 */
export const BENCH_ENCRYPTION = {
  keys: [createHash('sha256').update('sessionfs bench encryption key').digest('hex')],
};

/** name -> (dir) => store. `memory` keeps nothing on disk. */
export const contenders = {
  sessionfs: (dir) => sessionfs(dir),
  'sessionfs+cache': (dir) => sessionfs(dir, { cache: { mode: 'shared' } }),
  'sessionfs+sharded': (dir) => sessionfs(dir, { layout: 'sharded' }),
  'sessionfs+encryption': (dir) => sessionfs(dir, { encryption: BENCH_ENCRYPTION }),
  // Decrypts a session once per version read, not once per read.
  'sessionfs+encryption+cache': (dir) =>
    sessionfs(dir, { encryption: BENCH_ENCRYPTION, cache: { mode: 'shared' } }),
  bare: (dir) => bareFileStore(dir),
  memory: () => memoryStore(),
  'session-file-store': (dir) => sessionFileStore(dir),
  itrocks: (dir) => itrocks(dir),
};

export const onDisk = (name) => name !== 'memory';
