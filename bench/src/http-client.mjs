// The load generator of the HTTP level, in its own process, forked by http-level.mjs with
// an IPC channel. Usage: node http-client.mjs '<json options>' with
// { port, pool, connections, warmup, seconds, routes }.
// Logs `pool` visitors in (POST /login, keeping each session cookie), then for each
// route runs autocannon for `warmup` seconds (discarded) and `seconds` (measured), every
// request carrying the next cookie of the pool.
// Sends `{ result: { [route]: figures, served } }`, `served` counting every request.
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2]);
const origin = `http://127.0.0.1:${options.port}`;
process.on('disconnect', () => process.exit(1));

/** Logs `count` visitors in (autocannon, `amount: count`); their `name=value` session cookies. */
async function login(count) {
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

/** One autocannon run on `path`, each request with the next cookie of `cookies`. */
async function load(path, cookies, duration) {
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
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

const cookies = await login(options.pool);
// Every request the server answered, login and warm-up included (for per-request profiles).
const result = { served: cookies.length };
for (const route of options.routes) {
  if (options.warmup > 0)
    result.served += (await load(`/${route}`, cookies, options.warmup)).requests;
  result[route] = await load(`/${route}`, cookies, options.seconds);
  result.served += result[route].requests;
}
process.send({ result }, () => process.exit(0));
