// A Redis outage as the two instances' visitors see it: while redis-server is down, a
// request that needs the session fails with a 5xx within a bounded time (no hang, and
// never a 200 that silently logs the visitor out); once redis-server is back on the same
// port, both instances serve sessions again by themselves, without a restart.
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisServer } from '@sessionfs/test-redis-server';
import { afterAll, expect, it } from 'vitest';
import { type Answer, Instance, Visitor } from './instances.js';

/** The Redis adapter's default `timeout`: the longest a Redis operation may take. */
const ADAPTER_TIMEOUT_MS = 2_000;
/** Longest the test waits for the instances to serve sessions again after the restart. */
const RECOVERY_MS = 15_000;

const redis = await RedisServer.start();
afterAll(async () => {
  await Promise.allSettled([...Instance.running].map((instance) => instance.stop()));
  await redis.destroy();
});

/**
 * Logs a new visitor in on `instance` again and again, at most `ms`, until it answers 200:
 * a login saves a session, so a 200 means this instance reaches Redis again. (A plain
 * `GET /` would not do: a visitor whose cookie another instance cleared meanwhile is
 * answered without the store.) Resolves that answer.
 */
async function untilLoggedIn(instance: Instance, ms: number): Promise<Answer & { after: number }> {
  const started = performance.now();
  let last: Answer | undefined;
  while (performance.now() - started < ms) {
    last = await new Visitor().request(instance, 'POST', '/login', { name: 'Probe' });
    if (last.status === 200) return { ...last, after: Math.round(performance.now() - started) };
    await sleep(50);
  }
  throw new Error(`no 200 within ${ms} ms; last answer: ${JSON.stringify(last)}`);
}

it('answers 5xx while Redis is down, and serves sessions again by itself once it is back', async () => {
  const env = { SESSION_BACKEND: 'redis', REDIS_URL: redis.url };
  const [a, b] = await Promise.all([Instance.start(env), Instance.start(env)]);
  const visitor = new Visitor();
  expect((await visitor.request(a, 'POST', '/login', { name: 'Ada' })).status).toBe(200);
  expect((await visitor.request(b, 'POST', '/visit')).body).toMatchObject({
    user: 'Ada',
    visits: 1,
  });

  await redis.stop();
  const failures: Answer[] = [];
  for (const [instance, method, path] of [
    [a, 'GET', '/'],
    [b, 'POST', '/visit'],
    [a, 'POST', '/logout'],
    [b, 'GET', '/'],
  ] as const) {
    const answer = await visitor.request(instance, method, path);
    // A server error that names the cause, not a 200 for a visitor who seems logged out.
    expect(answer.status, `${method} ${path} during the outage`).toBeGreaterThanOrEqual(500);
    expect(answer.status).toBeLessThan(600);
    expect(answer.body).toMatchObject({ code: 'ERR_UNAVAILABLE' });
    // Bounded by the adapter's timeout, plus slack for a loaded machine: never a hang.
    expect(answer.ms).toBeLessThan(ADAPTER_TIMEOUT_MS + 2_000);
    failures.push(answer);
  }
  // The visitor still holds the session cookie: no answer cleared or replaced it.
  expect(visitor.cookie).toBeDefined();

  await redis.restart();
  const [backOnA, backOnB] = await Promise.all([
    untilLoggedIn(a, RECOVERY_MS),
    untilLoggedIn(b, RECOVERY_MS),
  ]);
  expect(backOnA.body).toMatchObject({ servedBy: a.pid, user: 'Probe' });
  expect(backOnB.body).toMatchObject({ servedBy: b.pid, user: 'Probe' });
  // Redis ran without persistence, so the restarted server is empty: the visitor has no
  // session any more, but both instances answer, and a new login works across them.
  expect((await visitor.request(a, 'GET', '/')).body).toMatchObject({
    servedBy: a.pid,
    user: null,
  });
  expect((await visitor.request(b, 'POST', '/login', { name: 'Grace' })).status).toBe(200);
  expect((await visitor.request(a, 'POST', '/visit')).body).toMatchObject({
    servedBy: a.pid,
    user: 'Grace',
    visits: 1,
  });

  console.log(
    [
      'redis outage through Fastify (two instances, adapter timeout 2000 ms):',
      `  redis-server killed; the next requests answered ${failures
        .map((failure) => `${failure.status} in ${failure.ms} ms`)
        .join(', ')}`,
      `  redis-server restarted on port ${redis.port}; 200 again on A after ${backOnA.after} ms, on B after ${backOnB.after} ms`,
    ].join('\n'),
  );

  expect(await a.stop()).toBe(0);
  expect(await b.stop()).toBe(0);
}, 60_000);
