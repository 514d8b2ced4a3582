// One server of the HTTP level, for one contender, forked by http-level.mjs with an IPC
// channel, on 127.0.0.1 only: Fastify 5 + @fastify/cookie + @fastify/session with its
// defaults (`rolling: true`, `saveUninitialized: true`), or for an `express:` contender
// Express 5 + express-session (`resave: false`, `saveUninitialized: false`, `rolling: true`),
// with the same secret, cookie and routes.
// Usage: node http-server.mjs <contender> <dir> [<redis url> <key prefix>]
// Sends `{ port }` once listening; on the message 'check' waits for the last saves, closes
// the server and its store, checks that every stored session decodes (with a fresh store or
// JSON.parse), sends `{ check }` and exits. Exits at once if the parent goes away.
import { readdir, readFile } from 'node:fs/promises';
import { createRequire, register } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { callbackify } from 'node:util';
import fastifyCookie from '@fastify/cookie';
import fastifySession, { MemoryStore } from '@fastify/session';
import { LAYOUT_FILE } from '@sessionfs/adapter-node';
import { FileSessionStore } from '@sessionfs/fastify-session-file';
import Fastify from 'fastify';
import { isExpress, REDIS_FLOOR, usesRedis } from './http-level.mjs';
import { MAX_AGE, makeSession } from './sessions.mjs';

const [name, dir, redisUrl, prefix] = process.argv.slice(2);
const onExpress = isExpress(name);
/** The store under the framework: `express:bare` is `bare` under Express. */
const storeName = onExpress ? name.slice('express:'.length) : name;
const SECRET = 'sessionfs-benchmark-secret-0123456789abcdef';
const require = createRequire(import.meta.url);
process.on('disconnect', () => process.exit(1));
// Only the Redis contenders load the Redis clients, all of them the same `redis`.
if (redisUrl) register('./peer-redis.mjs', import.meta.url);
const { createRedisAdapter } = redisUrl ? await import('@sessionfs/adapter-redis') : {};
const { createClient } = redisUrl ? await import('redis') : {};

/** A store with the promise API of contenders.mjs, in @fastify/session's callback shape. */
function callbackStore(store) {
  return {
    get: callbackify(store.get),
    set: callbackify(store.set),
    destroy: callbackify(store.destroy),
    close: store.close,
  };
}

/**
 * The contender's store as express-session takes it (a `session.Store`), with a `close()`:
 * each as its users set it up, the bare one wrapped.
 */
async function createExpressStore() {
  const { default: session } = await import('express-session');
  switch (storeName) {
    case 'memory': {
      // express-session's own store: the ceiling.
      const store = new session.MemoryStore();
      store.close = async () => {};
      return store;
    }
    case 'sessionfs': {
      const { FileStore } = await import('@sessionfs/express-session-file');
      return new FileStore({ dir });
    }
    case 'session-file-store': {
      // As express users have it: the factory on express-session, which itself treats the
      // ENOENT of a missing session as none. The options are the Fastify row's.
      const { sessionFileStoreOptions } = await import('./contenders.mjs');
      const FileStore = require('session-file-store')(session);
      const store = new FileStore(sessionFileStoreOptions(dir));
      store.close = async () => {};
      return store;
    }
    case 'bare': {
      // The store level's bare store, as a session.Store. It keeps the expiry in the file
      // (the cookie), so moving it (touch) is writing the file again.
      const { contenders } = await import('./contenders.mjs');
      const bare = await contenders.bare(dir);
      const store = new session.Store();
      Object.assign(store, callbackStore(bare));
      store.touch = store.set;
      return store;
    }
    default:
      throw new Error(`${name}: no such Express contender`);
  }
}

/** The contender's store, as @fastify/session takes it, with a `close()`. */
async function createStore() {
  if (onExpress) return createExpressStore();
  switch (name) {
    case 'memory': {
      // @fastify/session's own store, unwrapped: the ceiling.
      const store = new MemoryStore();
      store.close = async () => {};
      return store;
    }
    case 'sessionfs':
      return new FileSessionStore({ dir });
    case 'sessionfs+cache':
      return new FileSessionStore({ dir, cache: { mode: 'shared' } });
    case 'sessionfs+sharded':
      return new FileSessionStore({ dir, layout: 'sharded' });
    case 'sessionfs+owner':
      // Every bench session is a logged-in user's: each is indexed by its owner.
      return new FileSessionStore({ dir, owner: (session) => session.user?.id });
    case 'sessionfs+encryption': {
      const { BENCH_ENCRYPTION } = await import('./contenders.mjs');
      return new FileSessionStore({ dir, encryption: BENCH_ENCRYPTION });
    }
    case 'sessionfs+redis': {
      // The bench's own `redis` client, the one connect-redis runs on: `redis` is a peer of
      // the adapter, and both contenders must run on the same client version.
      const client = createClient({ url: redisUrl, disableOfflineQueue: true });
      client.on('error', () => {});
      return new FileSessionStore({ adapter: createRedisAdapter({ client, prefix }) });
    }
    case 'sessionfs+redis+csc':
      // Client-side caching needs a client the adapter creates (on the bench's `redis`:
      // peer-redis.mjs), and confirms the store's cached sessions.
      return new FileSessionStore({
        adapter: createRedisAdapter({ url: redisUrl, prefix, clientSideCache: true }),
        cache: { mode: 'shared' },
      });
    case 'connect-redis': {
      const { RedisStore } = await import('connect-redis');
      const client = createClient({ url: redisUrl });
      await client.connect();
      const store = new RedisStore({ client, prefix });
      store.close = () => client.quit();
      return store;
    }
    case REDIS_FLOOR: {
      // The least a store over Redis does: no id check, no expiry check, no size bound, no
      // typed errors; the expiry Redis enforces from `cookie.expires`, as connect-redis does.
      const client = createClient({ url: redisUrl });
      await client.connect();
      const key = (id) => `${prefix}${id}`;
      return {
        get: (id, callback) =>
          client
            .sendCommand(['GET', key(id)])
            .then((text) => callback(null, text === null ? null : JSON.parse(text)), callback),
        set: (id, session, callback) => {
          const expiresAt = new Date(session.cookie.expires).getTime();
          client
            .sendCommand(['SET', key(id), JSON.stringify(session), 'PXAT', String(expiresAt)])
            .then(() => callback(null), callback);
        },
        destroy: (id, callback) =>
          client.sendCommand(['DEL', key(id)]).then(() => callback(null), callback),
        close: () => client.quit(),
      };
    }
    default: {
      // bare, session-file-store, itrocks: as the store level has them.
      const { contenders } = await import('./contenders.mjs');
      return callbackStore(await contenders[name](dir));
    }
  }
}

/** Store calls in flight: `counted(store)` keeps the count. */
let pending = 0;
function counted(store) {
  for (const method of ['get', 'set', 'touch', 'destroy']) {
    if (typeof store[method] !== 'function') continue;
    const call = store[method].bind(store);
    store[method] = (...args) => {
      const callback = args.pop();
      pending += 1;
      call(...args, (...results) => {
        pending -= 1;
        callback(...results);
      });
    };
  }
  return store;
}

/**
 * Waits (10 s at most) until no store call has been in flight for 200 ms: autocannon
 * drops its connections at the end of a run, but the requests it left behind still save
 * their sessions. Resolves the calls still in flight (0 once settled).
 */
async function settled() {
  const deadline = Date.now() + 10_000;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    if (pending > 0) quietSince = Date.now();
    else if (Date.now() - quietSince >= 200) return 0;
    await sleep(20);
  }
  return pending;
}

/** Runs `work(client, keys)` with a new client and the keys under `prefix` (by SCAN). */
async function withRedisKeys(work) {
  const client = createClient({ url: redisUrl });
  await client.connect();
  try {
    const keys = [];
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      keys.push(...batch);
    }
    return await work(client, keys);
  } finally {
    await client.quit();
  }
}

/**
 * The names of the files in a session directory, in its shards too (`layout: 'sharded'`),
 * but for the file that records its layout.
 */
async function sessionDirectoryNames(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name !== LAYOUT_FILE)
    .map((entry) => entry.name);
}

/** Counts what is stored and what decodes: `{ stored, decoded, failed, loggedIn, other }`. */
async function check(store) {
  const result = { stored: 0, decoded: 0, failed: 0, loggedIn: 0, other: 0 };
  const count = (session) => {
    result.decoded += 1;
    if (typeof session?.user?.name === 'string') result.loggedIn += 1;
  };
  if (name === 'memory') {
    // Nothing to decode: the live objects are in the Map.
    for (const session of store.store.values()) count(session);
    result.stored = result.decoded;
  } else if (name === 'express:memory') {
    // express-session's MemoryStore keeps each session as JSON text.
    for (const text of Object.values(store.sessions)) count(JSON.parse(text));
    result.stored = result.decoded;
  } else if (name === 'express:sessionfs') {
    const names = await sessionDirectoryNames(dir);
    result.stored = names.filter((file) => file.startsWith('s.')).length;
    const corrupt = names.filter((file) => file.startsWith('corrupt.')).length;
    result.other = names.length - result.stored - corrupt;
    // A fresh store over the same directory.
    const { FileStore } = await import('@sessionfs/express-session-file');
    const fresh = new FileStore({ dir, reapInterval: false });
    for await (const [, session] of fresh.engine.entries()) count(session);
    const length = await fresh.engine.length();
    await fresh.close();
    result.failed = corrupt + (result.stored - result.decoded) + Math.abs(length - result.decoded);
  } else if (name.startsWith('sessionfs')) {
    const names = usesRedis(name)
      ? await withRedisKeys((_, keys) => keys.map((key) => key.slice(prefix.length)))
      : await sessionDirectoryNames(dir);
    result.stored = names.filter((file) => file.startsWith('s.')).length;
    const corrupt = names.filter((file) => file.startsWith('corrupt.')).length;
    result.other = names.length - result.stored - corrupt;
    // A fresh store over the same directory (or Redis prefix): nothing cached, nothing shared.
    const fresh = new FileSessionStore(
      usesRedis(name)
        ? { adapter: createRedisAdapter({ url: redisUrl, prefix }), reapInterval: false }
        : {
            dir,
            reapInterval: false,
            ...(name === 'sessionfs+encryption'
              ? { encryption: (await import('./contenders.mjs')).BENCH_ENCRYPTION }
              : {}),
          },
    );
    for await (const [, session] of fresh.engine.entries()) count(session);
    const length = await fresh.engine.length();
    await fresh.close();
    // A record that does not decode is skipped by entries() (and set aside as corrupt.*).
    result.failed = corrupt + (result.stored - result.decoded) + Math.abs(length - result.decoded);
  } else if (name === 'connect-redis' || name === REDIS_FLOOR) {
    await withRedisKeys(async (client, keys) => {
      result.stored = keys.length;
      for (const key of keys) {
        try {
          count(JSON.parse(await client.get(key)));
        } catch {
          result.failed += 1;
        }
      }
    });
  } else {
    // bare, session-file-store, itrocks, under either framework: every file must parse.
    // Temp files are `other`.
    const isSession =
      storeName === 'session-file-store'
        ? (file) => file.endsWith('.json')
        : (file) => file[0] !== '.';
    for (const file of await readdir(dir)) {
      if (!isSession(file)) {
        result.other += 1;
        continue;
      }
      result.stored += 1;
      try {
        count(JSON.parse(await readFile(join(dir, file), 'utf8')));
      } catch {
        result.failed += 1;
      }
    }
  }
  return result;
}

/** Fastify 5 + @fastify/cookie + @fastify/session over `store`. `{ port, close }` once up. */
async function startFastify(store) {
  const app = Fastify({ logger: false });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: SECRET,
    store,
    // Plain HTTP on loopback: a secure cookie would never come back. The rest: defaults.
    cookie: { secure: false, maxAge: MAX_AGE },
  });

  // Creates a logged-in session (about 400 bytes of JSON), as the pool of cookies needs.
  app.post('/login', async (request) => {
    const { cookie: _cookie, ...data } = makeSession(Number(request.query.i ?? 0));
    Object.assign(request.session, data);
    return { name: data.user.name };
  });
  // Changes the session on every request.
  app.get('/counter', async (request, reply) => {
    if (!request.session.user) return reply.code(401).send({ error: 'not logged in' });
    request.session.views = (request.session.views ?? 0) + 1;
    return { views: request.session.views };
  });
  // Only reads it: with `rolling: true` the session is saved all the same, unchanged.
  app.get('/whoami', async (request, reply) => {
    if (!request.session.user) return reply.code(401).send({ error: 'not logged in' });
    return { name: request.session.user.name };
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  return { port: app.server.address().port, close: () => app.close() };
}

/**
 * Express 5 + express-session over `store`, as close to the Fastify server as
 * express-session allows: the same secret, cookie name and cookie, rolling; sessions saved
 * only once something is in them. `{ port, close }` once up.
 */
async function startExpress(store) {
  const { default: express } = await import('express');
  const { default: session } = await import('express-session');
  const app = express();
  app.use(
    session({
      name: 'sessionId',
      secret: SECRET,
      store,
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: { secure: false, maxAge: MAX_AGE },
    }),
  );
  app.post('/login', (req, res) => {
    const { cookie: _cookie, ...data } = makeSession(Number(req.query.i ?? 0));
    Object.assign(req.session, data);
    res.json({ name: data.user.name });
  });
  app.get('/counter', (req, res) => {
    if (!req.session.user) return res.status(401).json({ error: 'not logged in' });
    req.session.views = (req.session.views ?? 0) + 1;
    res.json({ views: req.session.views });
  });
  // Only reads it: express-session touches the unchanged session (`store.touch`).
  app.get('/whoami', (req, res) => {
    if (!req.session.user) return res.status(401).json({ error: 'not logged in' });
    res.json({ name: req.session.user.name });
  });
  const server = await new Promise((resolve, reject) => {
    const listening = app.listen(0, '127.0.0.1', (error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  return {
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}

if (redisUrl && !usesRedis(name)) {
  throw new Error(`${name} does not use Redis`);
}
const store = counted(await createStore());
const server = await (onExpress ? startExpress(store) : startFastify(store));
process.send({ port: server.port });
process.on('message', async (message) => {
  if (message !== 'check') return;
  const unsettled = await settled();
  await server.close();
  await store.close();
  const result = { ...(await check(store)), unsettled };
  process.send({ check: result }, () => process.exit(0));
});
