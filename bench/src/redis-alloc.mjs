// Memory allocated per request by the two Redis contenders, without Redis: each runs over
// an in-process stand-in that answers every command at once, so what is left is the store's
// own JavaScript (and JSON), which a busy HTTP server pays again in collector time.
// Prints, per contender: bytes allocated per request (V8's sampling heap profiler with the
// objects collected since included), CPU µs per request, and the top allocation sites.
// A third row, not a product: the store with the adapter's wrapper around each Redis call
// (its deadline, key check and error mapping) taken out, the most a lighter one could save.
// Usage: pnpm --filter @sessionfs/bench run redis-alloc [requests per round] [rounds]
// Build the packages first (`pnpm turbo run build --filter=@sessionfs/bench^...`).
import { Session } from 'node:inspector/promises';
import { createRedisAdapter } from '@sessionfs/adapter-redis';
import { FileSessionStore } from '@sessionfs/fastify-session-file';
import { RedisStore } from 'connect-redis';
import { MAX_AGE, makeSession, sessionId } from './sessions.mjs';
import { median, table } from './util.mjs';

const [requestsText = '20000', roundsText = '9'] = process.argv.slice(2);
const requestsPerRound = Number(requestsText);
const rounds = Number(roundsText);
const IN_FLIGHT = 50;
/** Sampling interval of the heap profiler, in bytes: small enough for a steady mean. */
const SAMPLING_BYTES = 512;
const ids = Array.from({ length: 1_000 }, sessionId);

/** Redis as a `Map`: values kept as sent, a copy of a `Buffer` read back as a reply is. */
function standInRedis() {
  const values = new Map();
  const reply = (value) => Promise.resolve(value === undefined ? null : value);
  return {
    // What the Redis adapter calls (one server's client, raw commands).
    isOpen: true,
    connect: async () => {},
    close: async () => {},
    destroy() {},
    on() {},
    sendCommand(args) {
      if (args[0] === 'SET') {
        values.set(args[1], Buffer.from(args[2]));
        return reply('OK');
      }
      if (args[0] === 'GETRANGE' || args[0] === 'GET') return reply(values.get(args[1]));
      return Promise.reject(new Error(`the stand-in does not run ${args[0]}`));
    },
    // What connect-redis calls (string replies).
    get: (key) => reply(values.get(key)),
    set(key, value) {
      values.set(key, value);
      return reply('OK');
    },
  };
}

/** A `@fastify/session` callback store as promises. */
function promised(store) {
  const call = (method, ...args) =>
    new Promise((resolve, reject) =>
      store[method](...args, (error, value) => (error ? reject(error) : resolve(value))),
    );
  return { get: (id) => call('get', id), set: (id, session) => call('set', id, session) };
}

/**
 * The Redis adapter with each call sent bare: no deadline, no key check, no error mapping.
 * (It replaces the adapter's private `run`: a measurement only, never a way to use it.)
 */
function withoutCallWrapper(adapter) {
  adapter.run = function sendBare(_action, key, operation, toResult) {
    return operation(this.prefix + key).then(toResult);
  };
  return adapter;
}

const contenders = [
  {
    name: 'sessionfs + @sessionfs/adapter-redis',
    ...promised(
      new FileSessionStore({
        adapter: createRedisAdapter({ client: standInRedis(), prefix: 'sessionfs:' }),
        reapInterval: false,
      }),
    ),
  },
  {
    name: 'sessionfs, calls without their wrapper (upper bound)',
    ...promised(
      new FileSessionStore({
        adapter: withoutCallWrapper(
          createRedisAdapter({ client: standInRedis(), prefix: 'sessionfs:' }),
        ),
        reapInterval: false,
      }),
    ),
  },
  {
    name: 'connect-redis 9',
    ...promised(new RedisStore({ client: standInRedis(), prefix: 'connect-redis:' })),
  },
];

/** `requests` requests (get, change on every other round, set) with 50 in flight. */
async function serve(store, requests, changed) {
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < requests) {
        const id = ids[next++ % ids.length];
        const session = await store.get(id);
        if (changed) session.views += 1;
        // What rolling: true does on every request.
        session.cookie.expires = new Date(Date.now() + MAX_AGE).toISOString();
        await store.set(id, session);
      }
    }),
  );
}

/** Bytes per request by allocation site, from a sampling heap profile over `requests`. */
function sites(profile, requests) {
  const bySite = new Map();
  let total = 0;
  const visit = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/.*\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, '');
    const site = `${functionName || '(anonymous)'} ${file.replace(/.*\/(packages|bench)\//, '$1/')}:${lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  return {
    perRequest: total / requests,
    top: [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 8),
  };
}

for (const store of contenders) {
  for (const [i, id] of ids.entries()) await store.set(id, makeSession(i));
  // Warm-up: the JIT settles before anything is counted.
  await serve(store, requestsPerRound, true);
}
const inspector = new Session();
inspector.connect();
const results = new Map(contenders.map(({ name }) => [name, { bytes: [], micros: [], top: [] }]));
for (let round = 0; round < rounds; round += 1) {
  const order = round % 2 ? [...contenders].reverse() : contenders;
  for (const store of order) {
    const result = results.get(store.name);
    const cpu = process.cpuUsage();
    await serve(store, requestsPerRound, round % 2 === 0);
    const used = process.cpuUsage(cpu);
    result.micros.push((used.user + used.system) / requestsPerRound);
    // A separate run under the profiler: sampling slows the requests it counts.
    await inspector.post('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_BYTES,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    await serve(store, requestsPerRound, round % 2 === 0);
    const { profile } = await inspector.post('HeapProfiler.stopSampling');
    const { perRequest, top } = sites(profile, requestsPerRound);
    result.bytes.push(perRequest);
    if (round === rounds - 1) result.top = top;
  }
}
inspector.disconnect();

console.log(
  `Allocation and CPU per request over a stand-in that answers at once (median of ${rounds} rounds of ${requestsPerRound} requests; ${IN_FLIGHT} in flight, ${ids.length} sessions)\n\n${table(
    ['contender', 'bytes allocated', 'CPU µs'],
    [...results].map(([name, { bytes, micros }]) => [
      name,
      Math.round(median(bytes)).toLocaleString('en-US'),
      median(micros).toFixed(1),
    ]),
  )}`,
);
for (const [name, { top }] of results) {
  console.log(
    `\n${name}, last round: top allocation sites (bytes per request)\n\n${table(
      ['site', 'bytes'],
      top.map(([site, bytes]) => [`\`${site}\``, Math.round(bytes / requestsPerRound)]),
    )}`,
  );
}
