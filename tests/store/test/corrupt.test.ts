import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createMemoryAdapter } from '@sessionfs/adapter-memory';
import { createSessionStore, redactKey, sessionKey } from '@sessionfs/core';
import { describe, expect, it } from 'vitest';
import {
  collect,
  fastifySession,
  instrument,
  nodeAdapter,
  openStore,
  spyLogger,
} from './helpers.js';

const validRecord = async () => {
  const adapter = createMemoryAdapter();
  const store = createSessionStore({ adapter, reapInterval: false });
  await store.set('id', fastifySession(Date.now(), { user: 'ada', views: 12 }));
  const { data } = (await adapter.read(sessionKey('id'))) ?? { data: new Uint8Array() };
  await store.close();
  return Buffer.from(data);
};

describe('corrupt records', async () => {
  const whole = await validRecord();
  const headerEnd = whole.indexOf(0x0a);
  const cases: [string, Buffer][] = [
    ['an empty file', Buffer.alloc(0)],
    ['a truncated record', whole.subarray(0, whole.length - 5)],
    ['a cut header', whole.subarray(0, headerEnd - 3)],
    ['garbage bytes', Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0a, 0x42])],
    [
      'a bit flip in the payload',
      Buffer.from(whole.map((b, i) => (i === whole.length - 3 ? b ^ 1 : b))),
    ],
    ['plain JSON from another store', Buffer.from('{"cookie":{},"user":"ada"}')],
    [
      'a valid header over a payload the codec rejects',
      (() => {
        const payload = Buffer.from('{not json');
        const digest = createHash('sha1').update(payload).digest('base64url');
        return Buffer.concat([
          Buffer.from(`sfs1 ${Date.now() + 60_000} - ${payload.length} ${digest}\n`),
          payload,
        ]);
      })(),
    ],
  ];

  it.each(cases)(
    '%s reads as no session, is logged once by its shortened key, and is set aside',
    async (_, bytes) => {
      const adapter = createMemoryAdapter();
      const logger = spyLogger();
      const store = openStore({ adapter, logger });
      adapter.volume.mkdirSync(adapter.dir, { recursive: true });
      const path = `${adapter.dir}/${sessionKey('id')}`;
      adapter.volume.writeFileSync(path, bytes);
      // Unexpired as far as the file's expiry goes: the content alone must be judged.
      const later = (Date.now() + 60_000) / 1000;
      adapter.volume.utimesSync(path, later, later);

      expect(await store.get('id')).toBeNull();
      expect(await store.get('id')).toBeNull();
      expect(logger.warn).toHaveBeenCalledTimes(1);
      // The key only, shortened: never the session id, never the record's bytes.
      expect(logger.warn.mock.calls[0]?.[0]).toMatchObject({ key: redactKey(sessionKey('id')) });
      expect(logger.warn.mock.calls[0]?.[0]).not.toHaveProperty('sessionId');
      expect(logger.error).not.toHaveBeenCalled();

      // Dot-names are the adapter's own (its lock, temp files), never records.
      const files = (adapter.volume.readdirSync(adapter.dir) as string[]).filter(
        (name) => !name.startsWith('.'),
      );
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^corrupt\./);
      expect(
        Buffer.from(adapter.volume.readFileSync(`${adapter.dir}/${files[0]}`) as Buffer),
      ).toEqual(bytes);

      // The id is usable again, and the kept record is not a session.
      await store.set('id', { fresh: true });
      expect(await store.get('id')).toEqual({ fresh: true });
      expect(await store.length()).toBe(1);
    },
  );
});

describe('a 50 MB garbage file on the node adapter', () => {
  it('reads as no session without reading it, and is set aside whole', async () => {
    const adapter = await nodeAdapter();
    const store = openStore({ adapter });
    await store.set('id', { placeholder: true });
    const path = join(adapter.dir, sessionKey('id'));
    const handle = await open(path, 'w');
    const chunk = Buffer.alloc(1024 * 1024, 0x5a);
    for (let i = 0; i < 50; i += 1) await handle.write(chunk);
    await handle.close();

    const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    expect(await store.get('id')).toBeNull();
    const heapAfter = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    expect(heapAfter - heapBefore).toBeLessThan(20 * 1024 * 1024);

    // Dot-names are the adapter's own (its take lock, for a moment), never records.
    const files = (await readdir(adapter.dir)).filter((name) => !name.startsWith('.'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^corrupt\./);
    expect((await stat(join(adapter.dir, files[0] as string))).size).toBe(50 * 1024 * 1024);
  });

  it('honours a configured read bound', async () => {
    const adapter = createMemoryAdapter();
    const store = openStore({ adapter, maxRecordBytes: 100_000 });
    await store.set('big', { blob: 'x'.repeat(50_000) });
    expect(await store.get('big')).not.toBeNull();
    const small = openStore({ adapter, maxRecordBytes: 10_000 });
    expect(await small.get('big')).toBeNull();
  });
});

describe('missing sessions', () => {
  it('resolve null at once: one read, no retry, no log', async () => {
    const spy = instrument(createMemoryAdapter());
    const logger = spyLogger();
    const store = openStore({ adapter: spy.adapter, logger });
    const started = performance.now();
    expect(await store.get('new-visitor')).toBeNull();
    expect(performance.now() - started).toBeLessThan(100);
    expect(spy.calls.read).toBe(1);
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      expect(logger[level]).not.toHaveBeenCalled();
    }
    expect(await collect(store.ids())).toEqual([]);
  });
});
