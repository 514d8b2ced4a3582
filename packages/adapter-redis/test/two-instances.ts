import { createSessionStore, type SessionStore } from '@sessionfs/core';
import { expect } from 'vitest';
import { createRedisAdapter } from '../src/index.js';
import type { RedisAdapterOptions } from '../src/options.js';

/**
 * Two app instances over the same Redis keys: each a store with its cache on, over an
 * adapter of its own with client-side caching.
 */
export function twoInstances(
  connection: Pick<RedisAdapterOptions, 'url' | 'nodes'>,
  prefix: string,
): [SessionStore, SessionStore] {
  const open = () =>
    createSessionStore({
      adapter: createRedisAdapter({ ...connection, prefix, clientSideCache: true }),
      cache: { mode: 'shared' },
      reapInterval: false,
    });
  return [open(), open()];
}

/**
 * `rounds` requests alternating between the instances: one saves a session, or every
 * tenth time destroys it, and the very next request, on the other instance, must see
 * that. Each instance holds the session cached from its own last save or read, so every
 * read is of a copy the other instance has just made stale. Sessions rotate over `ids`
 * (on a cluster they live on different masters).
 */
export async function expectEachReadToSeeTheOtherWrite(
  [a, b]: [SessionStore, SessionStore],
  rounds: number,
  ids: string[],
): Promise<void> {
  for (let round = 0; round < rounds; round += 1) {
    // Two rounds per session: `a` writes and `b` reads, then the other way round.
    const id = ids[Math.floor(round / 2) % ids.length] as string;
    const [writer, reader] = round % 2 === 0 ? [a, b] : [b, a];
    if (round % 10 === 9) {
      await writer.destroy(id);
      expect(await reader.get(id), `round ${round}: destroyed on the other instance`).toBeNull();
    } else {
      await writer.set(id, { round });
      expect(await reader.get(id), `round ${round}: saved on the other instance`).toEqual({
        round,
      });
    }
  }
}
