// The same commands over Redis (the test redis-server on a loopback port), and sessions
// moved from a directory to Redis and back with their expiry.
import { randomUUID } from 'node:crypto';
import { createRedisAdapter } from '@sessionfs/adapter-redis';
import { createSessionStore, type SessionStore, sessionKey } from '@sessionfs/core';
import { RedisServer } from '@sessionfs/test-redis-server';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { appStore, cookieSession, HOUR, lines, runCli, sessionDir } from './support.js';

const server = await RedisServer.start();
afterAll(() => server.destroy());

const opened: SessionStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

/** A store over Redis under a prefix of this test's own. */
function redisStore(): { store: SessionStore; prefix: string } {
  const prefix = `cli-${randomUUID()}:`;
  const store = createSessionStore({
    adapter: createRedisAdapter({ url: server.url, prefix }),
    reapInterval: false,
  });
  opened.push(store);
  return { store, prefix };
}

describe('over Redis', () => {
  it('counts, lists and shows sessions, and removes them', async () => {
    const { store, prefix } = redisStore();
    for (let i = 0; i < 4; i += 1)
      await store.set(`r-${i}`, cookieSession({ n: i }, (i + 1) * HOUR));
    const backend = ['--redis', server.url, '--prefix', prefix];

    const stats = JSON.parse((await runCli(['stats', ...backend, '--json'])).stdout);
    expect(stats).toMatchObject({ live: 4, expired: 0, interruptedWrites: null, setAside: 0 });
    const listed = await runCli(['ls', ...backend, '--expiring-within', '90m', '--json']);
    expect(lines(listed.stdout).map((line) => JSON.parse(line).id)).toEqual(['r-0']);
    const shown = await runCli(['show', 'r-2', ...backend, '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ n: 2 });

    expect((await runCli(['rm', 'r-0', ...backend])).stdout).toBe('removed 1 session\n');
    expect(await store.get('r-0')).toBeNull();
    const refused = await runCli(['clear', ...backend]);
    expect(refused.code).toBe(2);
    expect(await store.count()).toBe(3);
  });

  it('moves sessions from a directory to Redis and back, keeping each expiry', async () => {
    const dir = await sessionDir();
    const files = appStore(dir);
    for (let i = 0; i < 5; i += 1) {
      await files.set(`m-${i}`, cookieSession({ user: { id: i } }, (i + 1) * HOUR));
    }
    const { store, prefix } = redisStore();
    const exported = await runCli(['export', '--dir', dir, '-q']);
    const toRedis = await runCli(['import', '--redis', server.url, '--prefix', prefix], {
      input: exported.stdout,
    });
    expect(lines(toRedis.stdout)[0]).toBe('imported 5 sessions');
    for (let i = 0; i < 5; i += 1) {
      const [inFiles, inRedis] = await Promise.all([
        files.inspectKey(sessionKey(`m-${i}`), { sessions: true }),
        store.inspectKey(sessionKey(`m-${i}`), { sessions: true }),
      ]);
      expect(inRedis?.expiresAt).toBe(inFiles?.expiresAt);
      expect(inRedis?.session).toEqual(inFiles?.session);
    }

    const back = await sessionDir();
    const fromRedis = await runCli(['export', '--redis', server.url, '--prefix', prefix, '-q']);
    const toFiles = await runCli(['import', '--dir', back], { input: fromRedis.stdout });
    expect(lines(toFiles.stdout)[0]).toBe('imported 5 sessions');
    expect(await appStore(back).get('m-3')).toMatchObject({ user: { id: 3 } });
  });

  it("lists and ends one owner's sessions through the owner index in Redis", async () => {
    const prefix = `cli-${randomUUID()}:`;
    const store = createSessionStore({
      adapter: createRedisAdapter({ url: server.url, prefix }),
      owner: (session: Record<string, unknown>) =>
        (session.user as { id?: string } | undefined)?.id,
      reapInterval: false,
    });
    opened.push(store);
    await store.set('ada-laptop', cookieSession({ user: { id: 'ada' } }));
    await store.set('ada-phone', cookieSession({ user: { id: 'ada' } }));
    await store.set('bob-laptop', cookieSession({ user: { id: 'bob' } }));
    const backend = ['--redis', server.url, '--prefix', prefix];

    const listed = await runCli(['ls', ...backend, '--owner', 'ada', '--json']);
    expect(
      lines(listed.stdout)
        .map((line) => JSON.parse(line).id)
        .sort(),
    ).toEqual(['ada-laptop', 'ada-phone']);
    const removed = await runCli(['rm', ...backend, '--owner', 'ada', '--except', 'ada-laptop']);
    expect(removed.code).toBe(0);
    expect(await store.get('ada-phone')).toBeNull();
    expect(await store.get('ada-laptop')).not.toBeNull();
    expect(await store.get('bob-laptop')).not.toBeNull();
  });

  it('says in one line when Redis cannot be reached', async () => {
    const run = await runCli(['stats', '--redis', 'redis://127.0.0.1:1'], { timeoutMs: 30_000 });
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(/^sessionfs: ERR_UNAVAILABLE: .*check that the backend is up/);
  });
});
