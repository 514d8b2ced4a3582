// Node CPU per request of the Redis contenders, without HTTP: each does what @fastify/session
// asks of its store on a request (get, then set, changed or only rolled) for 1,000 sessions,
// 50 requests in flight, against one redis-server. The process's user + system CPU divided
// by the requests served: steadier than req/s on a busy 2-core machine, where the HTTP
// client, Redis and the server share the cores.
// Also prints Redis's side: its CPU per request and the µs per call of each command
// (`INFO commandstats`) in the last round, and what one guarded `touch` (the Lua script an
// unchanged save would need) costs Redis against one `SET` of the same session.
// Usage: pnpm --filter @sessionfs/bench run redis-cpu [seconds per run] [rounds]
// Build the packages first (`pnpm turbo run build --filter=@sessionfs/bench^...`).
import { createRedisAdapter } from '@sessionfs/adapter-redis';
import { FileSessionStore } from '@sessionfs/fastify-session-file';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { startRedis } from './http-level.mjs';
import { MAX_AGE, makeSession, sessionId } from './sessions.mjs';
import { table } from './util.mjs';

const [secondsText = '4', roundsText = '5'] = process.argv.slice(2);
const seconds = Number(secondsText);
const rounds = Number(roundsText);
const IN_FLIGHT = 50;
const ids = Array.from({ length: 1_000 }, sessionId);

/** A `@fastify/session` callback store as promises. */
function promised(store) {
  const call = (method, ...args) =>
    new Promise((resolve, reject) =>
      store[method](...args, (error, value) => (error ? reject(error) : resolve(value))),
    );
  return { get: (id) => call('get', id), set: (id, session) => call('set', id, session) };
}

async function contenders(url) {
  const sessionfs = new FileSessionStore({
    adapter: createRedisAdapter({ url, prefix: 'cpu:sessionfs:' }),
    reapInterval: false,
  });
  const client = createClient({ url });
  await client.connect();
  const connectRedis = new RedisStore({ client, prefix: 'cpu:connect-redis:' });
  return [
    {
      name: 'sessionfs + @sessionfs/adapter-redis',
      ...promised(sessionfs),
      close: () => sessionfs.close(),
    },
    { name: 'connect-redis 9', ...promised(connectRedis), close: () => client.quit() },
  ];
}

/** µs of CPU per request over `seconds`, and requests per second. */
async function measure(store, changed) {
  let served = 0;
  const until = performance.now() + seconds * 1000;
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, worker) => {
      for (let i = worker * 20; performance.now() < until; i += 1) {
        const id = ids[i % ids.length];
        const session = await store.get(id);
        if (changed) session.views += 1;
        // What rolling: true does on every request.
        session.cookie.expires = new Date(Date.now() + MAX_AGE).toISOString();
        await store.set(id, session);
        served += 1;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { micros: (used.user + used.system) / served, rps: served / seconds, served };
}

/** Redis's CPU seconds so far, and µs per call by command since the last reset. */
async function redisSide(admin) {
  const cpu = await admin.info('cpu');
  const seconds = ['used_cpu_sys', 'used_cpu_user']
    .map((name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? 0))
    .reduce((a, b) => a + b, 0);
  const perCall = {};
  for (const [, command, calls, micros] of (await admin.info('commandstats')).matchAll(
    /cmdstat_(\w+):calls=(\d+),usec=(\d+)/g,
  )) {
    if (!['info', 'config'].includes(command)) {
      perCall[command] = { calls: Number(calls), micros: Number(micros) / Number(calls) };
    }
  }
  return { seconds, perCall };
}

/** µs of Redis CPU per call of a guarded `touch` and of a `SET`, each `count` times. */
async function touchAgainstSet(admin, url, count) {
  const adapter = createRedisAdapter({ url, prefix: 'cpu:calls:' });
  const data = new TextEncoder().encode(JSON.stringify(makeSession(1)));
  const expiresAt = Date.now() + MAX_AGE;
  const { version } = await adapter.write('s.probe', data, { expiresAt });
  const per = async (call) => {
    await admin.sendCommand(['CONFIG', 'RESETSTAT']);
    for (let i = 0; i < count; i += 1) await call(i);
    const { perCall } = await redisSide(admin);
    return Object.entries(perCall)
      .map(([command, { micros }]) => `${command} ${micros.toFixed(2)} µs`)
      .join(', ');
  };
  const touch = await per((i) => adapter.touch('s.probe', expiresAt + i, { ifVersion: version }));
  const write = await per((i) => adapter.write('s.other', data, { expiresAt: expiresAt + i }));
  await adapter.close();
  return { touch, write };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const redis = await startRedis();
const admin = createClient({ url: redis.url });
await admin.connect();
try {
  const stores = await contenders(redis.url);
  for (const store of stores) {
    for (const [i, id] of ids.entries()) await store.set(id, makeSession(i));
  }
  const results = new Map(stores.map(({ name }) => [name, { counter: [], whoami: [] }]));
  const serverSide = [];
  for (let round = 0; round < rounds; round += 1) {
    // Alternate who goes first; the first runs of all are warm-up for the JIT.
    const order = round % 2 ? [...stores].reverse() : stores;
    for (const store of order) {
      for (const route of ['counter', 'whoami']) {
        await admin.sendCommand(['CONFIG', 'RESETSTAT']);
        const before = await redisSide(admin);
        const { micros, served } = await measure(store, route === 'counter');
        if (round > 0 || rounds === 1) results.get(store.name)[route].push(micros);
        if (round === rounds - 1) {
          const after = await redisSide(admin);
          const calls = Object.entries(after.perCall)
            .map(
              ([command, { calls, micros }]) =>
                `${command} ${(calls / served).toFixed(1)}× ${micros.toFixed(2)} µs`,
            )
            .join(', ');
          serverSide.push([
            store.name,
            route,
            ((1e6 * (after.seconds - before.seconds)) / served).toFixed(1),
            calls,
          ]);
        }
      }
    }
  }
  const probe = await touchAgainstSet(admin, redis.url, 2_000);
  for (const store of stores) await store.close();
  const rows = [...results].map(([name, { counter, whoami }]) => [
    name,
    median(counter).toFixed(1),
    median(whoami).toFixed(1),
  ]);
  console.log(
    `Node CPU per request (µs, median of ${Math.max(1, rounds - 1)} runs of ${seconds} s after a warm-up round; ${IN_FLIGHT} in flight, ${ids.length} sessions, no HTTP)\n\n${table(['contender', 'counter (changed)', 'whoami (rolled only)'], rows)}`,
  );
  console.log(
    `\nRedis's side, last round (Redis CPU per request; per command: calls per request, µs per call from INFO commandstats)\n\n${table(['contender', 'route', 'Redis CPU µs', 'commands'], serverSide)}`,
  );
  console.log(
    `\nOne call at a time, 2,000 each (µs of Redis CPU per call): guarded touch: ${probe.touch}; SET of the same session: ${probe.write}`,
  );
} finally {
  await admin.quit();
  await redis.destroy();
}
