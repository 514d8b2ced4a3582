// Starts one instance; start a second one on another port over the same storage.
// SESSION_BACKEND picks the storage: `file` (default) keeps sessions as files in
// SESSIONS_DIR through the node adapter; `redis` keeps them in the Redis at REDIS_URL
// through the Redis adapter. PORT (3000), HOST (127.0.0.1) and SESSION_SECRET too.
import { fileURLToPath } from 'node:url';
import { createRedisAdapter } from '@sessionfs/adapter-redis';
import { buildApp } from './app.mjs';

const backend = process.env.SESSION_BACKEND || 'file';
const dir = process.env.SESSIONS_DIR || fileURLToPath(new URL('./sessions', import.meta.url));
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** @type {import('@sessionfs/fastify-session-file').FileSessionStoreOptions} */
let store;
let where;
if (backend === 'file') {
  store = { dir };
  where = dir;
} else if (backend === 'redis') {
  // The one line that differs: an adapter instead of a directory.
  store = { adapter: createRedisAdapter({ url: redisUrl }) };
  where = `Redis at ${new URL(redisUrl).host}`; // the host only, never a password
} else {
  throw new Error(`SESSION_BACKEND must be file or redis, got ${JSON.stringify(backend)}`);
}

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';
// Both instances must sign cookies with the same secret, so the example has a fixed one.
const secret = process.env.SESSION_SECRET || 'sessionfs two-instances example: set SESSION_SECRET';

const app = await buildApp({ store, secret, logger: { level: 'warn' } });
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => app.close());

const address = await app.listen({ host, port });
console.log(`two-instances: ${address} (pid ${process.pid}), sessions in ${where}`);
