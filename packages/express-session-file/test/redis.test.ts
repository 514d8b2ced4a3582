// The same FileStore over a real redis-server (the Redis adapter) instead of a directory:
// express-session over HTTP must behave as it does over files, and a second store over
// the same prefix (a restarted process) must see what the first one stored.
import { randomUUID } from 'node:crypto';
import { createRedisAdapter } from '@sessionfs/adapter-redis';
import { RedisServer } from '@sessionfs/test-redis-server';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../src/index.js';
import { Client, expressVersions, type RunningApp, startApp } from './http-app.js';

const server = await RedisServer.start();
afterAll(() => server.destroy());

describe.each(expressVersions)('over Redis through express-session on $name', ({ create }) => {
  const running: Array<RunningApp | FileStore> = [];

  afterEach(async () => {
    for (const resource of running.splice(0).reverse()) await resource.close();
  });

  function openStore(prefix: string): FileStore {
    const store = new FileStore({
      adapter: createRedisAdapter({ url: server.url, prefix }),
      reapInterval: false,
    });
    running.push(store);
    return store;
  }

  it('keeps a login and its counter across a restart, and forgets it on logout', async () => {
    // A prefix of this test's own: both Express versions share the one server.
    const prefix = `express-${randomUUID()}:`;
    const firstStore = openStore(prefix);
    const first = await startApp(create, firstStore);
    running.push(first);
    const client = new Client(first.url);

    const { id } = (await client.request('/login/ada', 'POST')).body as { id: string };
    expect((await client.request('/count')).body.views).toBe(1);
    expect((await client.request('/count')).body.views).toBe(2);
    expect((await client.request('/count')).body.views).toBe(3);
    expect(await firstStore.length()).toBe(1);

    // A second visitor makes the count two.
    const other = new Client(first.url);
    await other.request('/login/grace', 'POST');
    expect(await firstStore.length()).toBe(2);

    await first.close();
    await firstStore.close();

    const secondStore = openStore(prefix);
    const second = await startApp(create, secondStore);
    running.push(second);
    client.url = second.url;
    expect((await secondStore.get(id))?.user).toBe('ada');
    expect(await secondStore.length()).toBe(2);
    const counted = await client.request('/count');
    expect(counted.body).toMatchObject({ id, views: 4 });
    expect((await client.request('/whoami')).body.user).toBe('ada');

    expect((await client.request('/logout', 'POST')).body.loggedOut).toBe(true);
    expect(await secondStore.get(id)).toBeNull();
    expect(await secondStore.length()).toBe(1);
    expect((await client.request('/whoami')).body.user).toBeNull();
  });

  it('counts only the sessions under its own prefix', async () => {
    const store = openStore(`express-${randomUUID()}:`);
    const neighbour = openStore(`express-${randomUUID()}:`);
    const app = await startApp(create, store);
    running.push(app);
    await new Client(app.url).request('/login/ada', 'POST');
    expect(await store.length()).toBe(1);
    expect(await neighbour.length()).toBe(0);
  });
});
