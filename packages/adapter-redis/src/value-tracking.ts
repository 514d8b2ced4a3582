import type { AdapterStat } from '@sessionfs/core/adapter';
import { connectionOf, type RedisClient, type Send, senderOf } from './client.js';
import { invalidationHook } from './invalidations.js';
import { ReplyBarrier } from './reply-barrier.js';
import { TrackedKeys, type TrackedValue } from './tracked-keys.js';

/**
 * What the adapter remembers of the values it read and wrote, and how it answers `stat`.
 * Chosen once, when the adapter is made: {@link UNTRACKED}, or a {@link ClientSideCache}
 * with the option `clientSideCache`.
 */
export interface ValueTracking {
  /** How the adapter sends its commands over `client`. */
  sendFor(client: RedisClient): Send;
  /**
   * Notes that a command about `redisKey` goes out now; its reply is then given to
   * `learn` with the token this returns.
   */
  expect(redisKey: string): TrackedValue | undefined;
  /**
   * Notes what a reply said Redis holds (see {@link TrackedKeys.learn}); `token` from
   * `expect` when the command went out.
   */
  learn(
    token: TrackedValue | undefined,
    size: number,
    version: string | undefined,
    expiresAt: number | undefined,
  ): void;
  /** Drops what is known of `redisKey`, as a command goes out whose outcome is not learned. */
  forget(redisKey: string): void;
  /** `stat` of `redisKey`: what is known of it if current, else `fromRedis`. */
  stat(
    redisKey: string,
    fromRedis: (redisKey: string) => Promise<AdapterStat | null>,
  ): Promise<AdapterStat | null>;
}

/** Without `clientSideCache`: nothing remembered, every `stat` asks Redis. */
export const UNTRACKED: ValueTracking = {
  sendFor: senderOf,
  expect: () => undefined,
  learn: () => {},
  forget: () => {},
  stat: (redisKey, fromRedis) => fromRedis(redisKey),
};

/**
 * The option `clientSideCache`: the adapter remembers the header (version, expiry, size)
 * of every value it read or wrote, and Redis reports every write to a key under the
 * prefix by anyone else (server-assisted client-side caching, `CLIENT TRACKING … BCAST`).
 * A `stat` of a remembered value, the one check by which the store confirms a cached
 * session, then reads nothing: it waits for the next reply over the key's connection
 * ({@link ReplyBarrier}), which proves that no report of a change was still on its way.
 */
export class ClientSideCache implements ValueTracking {
  private readonly keys: TrackedKeys;
  /** Passed to the client as its `clientSideCache` option. */
  readonly hook: object;
  private barrier: ReplyBarrier | undefined;

  constructor(prefix: string, maxEntries: number) {
    this.keys = new TrackedKeys(maxEntries);
    this.hook = invalidationHook(prefix, (redisKey) => {
      if (redisKey === null) this.keys.clear();
      else this.keys.forget(redisKey);
    });
  }

  sendFor(client: RedisClient): Send {
    this.barrier = new ReplyBarrier(senderOf(client), connectionOf(client));
    return this.barrier.send;
  }

  expect(redisKey: string): TrackedValue {
    return this.keys.expect(redisKey);
  }

  learn(
    token: TrackedValue | undefined,
    size: number,
    version: string | undefined,
    expiresAt: number | undefined,
  ): void {
    if (token !== undefined) this.keys.learn(token, size, version, expiresAt);
  }

  forget(redisKey: string): void {
    this.keys.forget(redisKey);
  }

  stat(
    redisKey: string,
    fromRedis: (redisKey: string) => Promise<AdapterStat | null>,
  ): Promise<AdapterStat | null> {
    const known = this.keys.known(redisKey);
    if (known === undefined || this.barrier === undefined) return this.ask(redisKey, fromRedis);
    return this.barrier
      .afterNextReply(redisKey)
      .then((answered) =>
        answered && this.keys.isCurrent(known) ? known.stat : this.ask(redisKey, fromRedis),
      );
  }

  /** `stat` from Redis, remembered. */
  private ask(
    redisKey: string,
    fromRedis: (redisKey: string) => Promise<AdapterStat | null>,
  ): Promise<AdapterStat | null> {
    const token = this.keys.expect(redisKey);
    return fromRedis(redisKey).then((stat) => {
      this.keys.learn(token, stat?.size ?? 0, stat?.version, stat?.expiresAt);
      return stat;
    });
  }
}
