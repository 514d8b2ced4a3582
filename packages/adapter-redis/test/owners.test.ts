// The owner index over Redis as stores use it: `sessionsOf` and `destroyOwner` across two
// stores sharing one Redis, and the expiry of an owner's set, which must outlive every
// session it lists and go once they are all gone.
import { randomUUID } from 'node:crypto';
import { createSessionStore, ownerKey, type SessionStore, sessionKey } from '@sessionfs/core';
import { RedisServer, startCluster } from '@sessionfs/test-redis-server';
import { createClient, createCluster } from 'redis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisAdapter } from '../src/index.js';
import type { RedisAdapterOptions } from '../src/options.js';

const [server, cluster] = await Promise.all([RedisServer.start(), startCluster(3)]);
afterAll(() => Promise.all([server.destroy(), cluster.destroy()]));
const nodes = cluster.servers.map(({ port }) => ({ host: '127.0.0.1', port }));

/** The commands the tests send Redis themselves, to one server or to the cluster. */
interface Direct {
  pExpireTime(redisKey: string): Promise<number>;
  exists(redisKey: string): Promise<number>;
  sCard(redisKey: string): Promise<number>;
  destroy(): void;
}

/** What a test gets besides the two stores. */
interface Context {
  direct: Direct;
  /** The Redis key of `user`'s owner set. */
  ownerSet(user: string): string;
  /** The Redis key of the session `id`. */
  record(id: string): string;
}

const connections: [string, Pick<RedisAdapterOptions, 'url' | 'nodes'>, () => Promise<Direct>][] = [
  [
    'one server',
    { url: server.url },
    async () => (await createClient({ url: server.url }).connect()) as unknown as Direct,
  ],
  [
    'a 3-master cluster',
    { nodes },
    async () =>
      (await createCluster({
        rootNodes: nodes.map(({ port }) => ({ url: `redis://127.0.0.1:${port}` })),
      }).connect()) as unknown as Direct,
  ],
];

type Session = { cookie: { originalMaxAge: number; expires: string }; user?: { id: string } };

/** A session of `user` that lives `lifetime` ms from now, as a framework hands it over. */
function sessionOf(user: string, lifetime = 60_000, data: Record<string, unknown> = {}): Session {
  const expires = new Date(Date.now() + lifetime).toISOString();
  return { cookie: { originalMaxAge: lifetime, expires }, user: { id: user }, ...data };
}

async function idsOf(store: SessionStore<Session>, user: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const [id] of store.sessionsOf(user)) ids.push(id);
  return ids.sort();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(connections)('the owner index on %s', (_, connection, connectDirect) => {
  /** Two stores (two app instances) over the same keys, each with an adapter of its own. */
  function twoStores(prefix: string): [SessionStore<Session>, SessionStore<Session>] {
    const open = () =>
      createSessionStore<Session>({
        adapter: createRedisAdapter({ ...connection, prefix }),
        owner: (session) => session.user?.id,
        reapInterval: false,
        // Every touch moves the expiry: none is skipped as recent enough.
        touchAfter: 0,
      });
    return [open(), open()];
  }

  /** Runs `test` with two stores and a direct client, closing all three afterwards. */
  async function withStores(
    test: (
      stores: [SessionStore<Session>, SessionStore<Session>],
      context: Context,
    ) => Promise<void>,
  ): Promise<void> {
    const prefix = `owners-${randomUUID()}:`;
    const stores = twoStores(prefix);
    const direct = await connectDirect();
    try {
      await test(stores, {
        direct,
        ownerSet: (user) => `${prefix}.owners:${ownerKey(user)}`,
        record: (id) => prefix + sessionKey(id),
      });
    } finally {
      direct.destroy();
      await Promise.all(stores.map((store) => store.close()));
    }
  }

  it('lets two stores list and end the sessions of an owner that either saved', async () => {
    await withStores(async ([first, second]) => {
      await first.set('alice-laptop', sessionOf('alice', 60_000, { device: 'laptop' }));
      await first.set('alice-phone', sessionOf('alice'));
      await second.set('alice-tablet', sessionOf('alice'));
      await second.set('bob-laptop', sessionOf('bob'));

      expect(await idsOf(second, 'alice')).toEqual(['alice-laptop', 'alice-phone', 'alice-tablet']);
      expect(await idsOf(first, 'bob')).toEqual(['bob-laptop']);
      // "Log out everywhere else", asked on the instance that saved none of the other two.
      expect(await first.destroyOwner('alice', { except: 'alice-laptop' })).toBe(2);
      expect(await second.get('alice-phone')).toBeNull();
      expect(await second.get('alice-tablet')).toBeNull();
      expect(await second.get('alice-laptop')).toMatchObject({ device: 'laptop' });
      expect(await second.get('bob-laptop')).not.toBeNull();
      expect(await idsOf(second, 'alice')).toEqual(['alice-laptop']);
      expect(await second.destroyOwner('alice')).toBe(1);
      expect(await idsOf(first, 'alice')).toEqual([]);
    });
  });

  it('shows either store a session that the other gave to someone else', async () => {
    await withStores(async ([first, second], { direct, ownerSet }) => {
      await first.set('shared-computer', sessionOf('alice'));
      expect(await idsOf(second, 'alice')).toEqual(['shared-computer']);
      // The second store never read it, so alice's entry stays behind, and is skipped.
      await second.set('shared-computer', sessionOf('bob'));
      expect(await idsOf(first, 'alice')).toEqual([]);
      expect(await idsOf(first, 'bob')).toEqual(['shared-computer']);
      expect(await first.destroyOwner('alice')).toBe(0);
      // That look removed the stale entry.
      expect(await direct.sCard(ownerSet('alice'))).toBe(0);
      expect(await second.get('shared-computer')).toMatchObject({ user: { id: 'bob' } });
      // And back: the first store read it as bob's, so it leaves bob's set at once.
      await first.set('shared-computer', sessionOf('alice'));
      expect(await direct.sCard(ownerSet('bob'))).toBe(0);
      expect(await idsOf(second, 'bob')).toEqual([]);
      expect(await second.destroyOwner('alice')).toBe(1);
      expect(await first.get('shared-computer')).toBeNull();
    });
  });

  it('keeps an owner set while a touch on the other store keeps one of its sessions', async () => {
    await withStores(async ([first, second], { direct, ownerSet, record }) => {
      await first.set('kept', sessionOf('alice', 1_000));
      await first.set('brief', sessionOf('alice', 1_000));
      await second.touch('kept', sessionOf('alice', 3_600_000));
      // Saved again with a short life after the touch: the set keeps the later expiry.
      await first.set('brief', sessionOf('alice', 1_000));
      expect(await direct.pExpireTime(ownerSet('alice'))).toBe(
        await direct.pExpireTime(record('kept')),
      );
      await sleep(1_500);
      expect(await direct.exists(record('brief'))).toBe(0);
      expect(await idsOf(first, 'alice')).toEqual(['kept']);
      expect(await second.destroyOwner('alice')).toBe(1);
    });
  });

  it('lets an owner set expire once every session it lists has', async () => {
    await withStores(async ([first, second], { direct, ownerSet, record }) => {
      await first.set('later', sessionOf('alice', 900));
      await second.set('sooner', sessionOf('alice', 400));
      // Redis expires the set at the latest expiry of its sessions, to the millisecond.
      expect(await direct.pExpireTime(ownerSet('alice'))).toBe(
        await direct.pExpireTime(record('later')),
      );
      for (let waited = 0; (await direct.exists(ownerSet('alice'))) === 1; waited += 100) {
        if (waited >= 3_000) throw new Error('the owner set outlived its sessions by 2 s');
        await sleep(100);
      }
      expect(await direct.exists(record('later'))).toBe(0);
      expect(await idsOf(second, 'alice')).toEqual([]);
    });
  });
});
