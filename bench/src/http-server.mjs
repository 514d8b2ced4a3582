// One Fastify 5 server of the HTTP level, for one contender, forked by http-level.mjs with
// an IPC channel: Fastify + @fastify/cookie + @fastify/session with its defaults
// (`rolling: true`, `saveUninitialized: true`), on 127.0.0.1 only.
// Usage: node http-server.mjs <contender> <dir> [<redis url> <key prefix>]
// Sends `{ port }` once listening; on the message 'check' waits for the last saves, closes
// Fastify and its store, checks that every stored session decodes (with a fresh store or
// JSON.parse), sends `{ check }` and exits. Exits at once if the parent goes away.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { callbackify } from 'node:util';
import fastifyCookie from '@fastify/cookie';
import fastifySession, { MemoryStore } from '@fastify/session';
import { FileSessionStore } from '@sessionfs/fastify-session-file';
import Fastify from 'fastify';
import { REDIS_FLOOR, usesRedis } from './http-level.mjs';
import { MAX_AGE, makeSession } from './sessions.mjs';

const [name, dir, redisUrl, prefix] = process.argv.slice(2);
process.on('disconnect', () => process.exit(1));
// Only the Redis contenders load the Redis clients.
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

/** The contender's store, as @fastify/session takes it, with a `close()`. */
async function createStore() {
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
    case 'sessionfs+redis': {
      // The bench's own `redis` client, the one connect-redis runs on: `redis` is a peer of
      // the adapter, and both contenders must run on the same client version.
      const client = createClient({ url: redisUrl, disableOfflineQueue: true });
      client.on('error', () => {});
      return new FileSessionStore({ adapter: createRedisAdapter({ client, prefix }) });
    }
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
  for (const method of ['get', 'set', 'destroy']) {
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
  } else if (name === 'sessionfs' || name === 'sessionfs+cache' || name === 'sessionfs+redis') {
    const names =
      name === 'sessionfs+redis'
        ? await withRedisKeys((_, keys) => keys.map((key) => key.slice(prefix.length)))
        : await readdir(dir);
    result.stored = names.filter((file) => file.startsWith('s.')).length;
    const corrupt = names.filter((file) => file.startsWith('corrupt.')).length;
    result.other = names.length - result.stored - corrupt;
    // A fresh store over the same directory (or Redis prefix): nothing cached, nothing shared.
    const fresh = new FileSessionStore(
      name === 'sessionfs+redis'
        ? { adapter: createRedisAdapter({ url: redisUrl, prefix }), reapInterval: false }
        : { dir, reapInterval: false },
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
    // bare, session-file-store, itrocks: every file must parse. Temp files are `other`.
    const isSession =
      name === 'session-file-store' ? (file) => file.endsWith('.json') : (file) => file[0] !== '.';
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

if (redisUrl && !usesRedis(name)) {
  throw new Error(`${name} does not use Redis`);
}
const store = counted(await createStore());
const app = Fastify({ logger: false });
await app.register(fastifyCookie);
await app.register(fastifySession, {
  secret: 'sessionfs-benchmark-secret-0123456789abcdef',
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
process.send({ port: app.server.address().port });
process.on('message', async (message) => {
  if (message !== 'check') return;
  const unsettled = await settled();
  await app.close();
  await store.close();
  const result = { ...(await check(store)), unsettled };
  process.send({ check: result }, () => process.exit(0));
});
