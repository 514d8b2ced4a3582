// The load generator of the HTTP level, in its own process, forked by http-level.mjs with
// an IPC channel. Usage: node http-client.mjs '<json options>' with
// { targets: [{ name, port }], pool, connections, warmup, seconds, slices, routes }.
// Logs `pool` visitors in on every target (POST /login, keeping each session cookie), then
// for each route warms every target up for `warmup` seconds (discarded) and measures each
// for `seconds` in all, as `slices` turns that alternate between the targets (A B, B A, …):
// a shared machine's speed drifts for seconds at a time, and alternating spreads a slow
// stretch over every target instead of whichever happened to run then.
// Every request carries the next cookie of its target's pool.
// Sends `{ result: { [name]: { [route]: figures, served } } }`, `served` counting every
// request that target answered.
import autocannon from 'autocannon';
import { median } from './util.mjs';

const options = JSON.parse(process.argv[2]);
process.on('disconnect', () => process.exit(1));

/**
 * Logs `count` visitors in on `origin` (autocannon, `amount: count`); their `name=value`
 * session cookies.
 */
async function login(origin, count) {
  const cookies = [];
  let next = 0;
  const result = await autocannon({
    url: origin,
    connections: Math.min(options.connections, count),
    amount: count,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          request.path = `/login?i=${next++}`;
          return request;
        },
        onResponse: (status, _body, _context, headers) => {
          const name = Object.keys(headers).find((key) => key.toLowerCase() === 'set-cookie');
          const cookie = [headers[name] ?? []]
            .flat()
            .find((header) => header.startsWith('sessionId='));
          if (status === 200 && cookie) cookies.push(cookie.split(';', 1)[0]);
        },
      },
    ],
  });
  if (cookies.length !== count) {
    throw new Error(
      `login: ${cookies.length} of ${count} session cookies (${result.non2xx} non-2xx, ${result.errors} errors)`,
    );
  }
  return cookies;
}

/** One autocannon run on `origin` + `path`, each request with the next cookie of `cookies`. */
async function load(origin, path, cookies, duration) {
  let next = 0;
  const result = await autocannon({
    url: origin,
    connections: options.connections,
    duration,
    // autocannon stops at the first sample tick after `duration`: tick often.
    sampleInt: 100,
    timeout: 10,
    requests: [
      {
        method: 'GET',
        path,
        setupRequest: (request) => {
          request.headers = { ...request.headers, cookie: cookies[next++ % cookies.length] };
          return request;
        },
      },
    ],
  });
  return {
    duration: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

const targets = [];
for (const { name, port } of options.targets) {
  const origin = `http://127.0.0.1:${port}`;
  const cookies = await login(origin, options.pool);
  // Every request the target answered, login and warm-up included (for per-request profiles).
  targets.push({ name, origin, cookies, result: { served: cookies.length } });
}
const slices = Math.max(1, options.slices ?? 1);
for (const route of options.routes) {
  const path = `/${route}`;
  for (const target of targets) {
    if (options.warmup > 0) {
      target.result.served += (
        await load(target.origin, path, target.cookies, options.warmup)
      ).requests;
    }
  }
  const figures = new Map(targets.map((target) => [target, []]));
  for (let slice = 0; slice < slices; slice += 1) {
    for (const target of slice % 2 ? [...targets].reverse() : targets) {
      const run = await load(target.origin, path, target.cookies, options.seconds / slices);
      figures.get(target).push(run);
      target.result.served += run.requests;
    }
  }
  for (const [target, runs] of figures) {
    const total = (key) => runs.reduce((sum, run) => sum + run[key], 0);
    target.result[route] = {
      rps: total('requests') / total('duration'),
      p50: median(runs.map((run) => run.p50)),
      p99: median(runs.map((run) => run.p99)),
      requests: total('requests'),
      errors: total('errors'),
      timeouts: total('timeouts'),
      non2xx: total('non2xx'),
    };
  }
}
const result = Object.fromEntries(targets.map(({ name, result }) => [name, result]));
process.send({ result }, () => process.exit(0));
