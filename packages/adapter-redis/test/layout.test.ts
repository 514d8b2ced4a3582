import { randomBytes, randomUUID } from 'node:crypto';
import { createSessionStore, redactKey, sessionKey } from '@sessionfs/core';
import { RedisServer } from '@sessionfs/test-redis-server';
import { createClient } from 'redis';
import { afterAll, expect, it, vi } from 'vitest';
import { createRedisAdapter } from '../src/index.js';

const server = await RedisServer.start();
afterAll(() => server.destroy());

it('reads a session with one GET, and keeps the expiry Redis enforces in step with it', async () => {
  const prefix = `layout-${randomUUID()}:`;
  const adapter = createRedisAdapter({ url: server.url, prefix });
  const direct = await createClient({ url: server.url }).connect();
  try {
    const expiresAt = Date.now() + 60_000;
    await adapter.write('k', new TextEncoder().encode('value'), { expiresAt });
    expect(await direct.pExpireTime(`${prefix}k`)).toBe(expiresAt);
    const moved = expiresAt + 3_600_000;
    expect(await adapter.touch?.('k', moved)).toBe(true);
    expect(await direct.pExpireTime(`${prefix}k`)).toBe(moved);
    expect((await adapter.read('k'))?.expiresAt).toBe(moved);
    // A touch into the past deletes the key, and does not bring it back.
    expect(await adapter.touch?.('k', Date.now() - 1_000)).toBe(true);
    expect(await direct.exists(`${prefix}k`)).toBe(0);
    expect(await adapter.read('k')).toBeNull();
  } finally {
    direct.destroy();
    await adapter.close();
  }
});

it('sets aside a value under its prefix that it did not write, instead of serving it', async () => {
  const prefix = `foreign-${randomUUID()}:`;
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const store = createSessionStore({
    adapter: createRedisAdapter({ url: server.url, prefix }),
    reapInterval: false,
    logger,
  });
  const direct = await createClient({ url: server.url }).connect();
  try {
    await direct.set(`${prefix}${sessionKey('visitor')}`, '{"user":"mallory"}');
    expect(await store.get('visitor')).toBeNull();
    // Logged by its shortened key only: a session id is a bearer secret.
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ key: redactKey(sessionKey('visitor')) }),
      expect.stringContaining('set aside'),
    );
    expect(JSON.stringify(logger.warn.mock.calls)).not.toContain(sessionKey('visitor'));
    expect(await direct.exists(`${prefix}${sessionKey('visitor')}`)).toBe(0);
  } finally {
    direct.destroy();
    await store.close();
  }
});

it('connects a client it is given if needed, and leaves it open on close', async () => {
  const client = createClient({ url: server.url, disableOfflineQueue: true });
  client.on('error', () => {});
  const adapter = createRedisAdapter({ client, prefix: `given-${randomUUID()}:` });
  try {
    await adapter.write('k', new TextEncoder().encode('v'));
    expect(new TextDecoder().decode((await adapter.read('k'))?.data)).toBe('v');
    await adapter.close();
    expect(client.isOpen).toBe(true);
  } finally {
    client.destroy();
  }
});

it('runs on the redis client major this run asks for (REDIS_CLIENT=5: redis 5, otherwise 6)', async () => {
  const adapter = createRedisAdapter({ url: server.url, prefix: `major-${randomUUID()}:` });
  try {
    await adapter.write('k', new TextEncoder().encode('v'));
    // Only redis 6 asks for RESP3 by default: the protocol tells which client the adapter loaded.
    const client = adapter.client as unknown as { sendCommand(args: string[]): Promise<unknown> };
    const info = String(await client.sendCommand(['CLIENT', 'INFO']));
    expect(info).toMatch(process.env.REDIS_CLIENT === '5' ? /\bresp=2\b/ : /\bresp=3\b/);
  } finally {
    await adapter.close();
  }
});

it('holds sealed sessions under encryption, and rekey() re-seals them in place', async () => {
  const prefix = `sealed-${randomUUID()}:`;
  const [oldKey, newKey] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
  const open = (keys: string[]) =>
    createSessionStore({
      adapter: createRedisAdapter({ url: server.url, prefix }),
      reapInterval: false,
      encryption: { keys },
    });
  const direct = await createClient({ url: server.url }).connect();
  const [before, rotating, after] = [open([oldKey]), open([newKey, oldKey]), open([newKey])];
  const stores = [before, rotating, after];
  try {
    const session = { cookie: { originalMaxAge: 60_000 }, user: 'ada-the-user' };
    for (const id of ['a', 'b', 'c']) await before.set(id, { ...session, id });
    const raw = await direct.get(`${prefix}${sessionKey('a')}`);
    expect(raw).not.toBeNull();
    expect(raw).not.toContain('ada-the-user');
    expect(await rotating.rekey()).toMatchObject({ rekeyed: 3, failed: 0 });
    for (const id of ['a', 'b', 'c']) expect(await after.get(id)).toEqual({ ...session, id });
    // The expiry Redis enforces came along.
    expect(await direct.pTTL(`${prefix}${sessionKey('a')}`)).toBeGreaterThan(50_000);
  } finally {
    direct.destroy();
    await Promise.all(stores.map((store) => store.close()));
  }
});
