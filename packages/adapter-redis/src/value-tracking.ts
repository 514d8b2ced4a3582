import type { AdapterStat } from '@sessionfs/core/adapter';
import { invalidationHook } from './invalidations.js';
import { type KnownValue, TrackedKeys, type TrackedValue } from './tracked-keys.js';

/**
 * What the adapter remembers of the values it read and wrote. Chosen once, when the
 * adapter is made: {@link UNTRACKED}, or a {@link ClientSideCache} with the option
 * `clientSideCache`.
 */
export interface ValueTracking {
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
  /**
   * The `stat` of `redisKey` as remembered, or `undefined` when nothing is: then Redis is
   * asked. The promise resolves `undefined` too when Redis reported a change meanwhile.
   */
  recall(redisKey: string): Promise<AdapterStat | undefined> | undefined;
}

/** Without `clientSideCache`: nothing remembered, every `stat` asks Redis. */
export const UNTRACKED: ValueTracking = {
  expect: () => undefined,
  learn: () => {},
  forget: () => {},
  recall: () => undefined,
};

/**
 * The option `clientSideCache`: the adapter remembers the header (version, expiry, size)
 * of every value it read or wrote, and Redis reports every write to a key under the
 * prefix by anyone else (server-assisted client-side caching, `CLIENT TRACKING … BCAST`),
 * which drops it. A `stat` of a remembered value, the one check by which the store
 * confirms a cached session, is answered without a command.
 */
export class ClientSideCache implements ValueTracking {
  private readonly keys: TrackedKeys;
  /** Passed to the client as its `clientSideCache` option. */
  readonly hook: object;

  constructor(prefix: string, maxEntries: number, ttl: number) {
    this.keys = new TrackedKeys(maxEntries, ttl);
    this.hook = invalidationHook(prefix, (redisKey) => {
      if (redisKey === null) this.keys.clear();
      else this.keys.forget(redisKey);
    });
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

  recall(redisKey: string): Promise<AdapterStat | undefined> | undefined {
    const known = this.keys.known(redisKey);
    if (known === undefined) return undefined;
    // Answered once the event loop has polled its sockets again, after the request came:
    // Redis writes its report of a change to this instance's connection in the same pass
    // as it acknowledges the change to the writer, and the report may land a moment after
    // the poll that brought the acknowledgement (in one process, the request itself). The
    // first turn ends the current pass, the second comes after the next poll, which
    // applies any report that reached this process meanwhile.
    return new Promise((resolve) => setImmediate(afterNextPoll, this.keys, known, resolve));
  }
}

function afterNextPoll(
  keys: TrackedKeys,
  known: KnownValue,
  resolve: (stat: AdapterStat | undefined) => void,
): void {
  setImmediate(answer, keys, known, resolve);
}

function answer(
  keys: TrackedKeys,
  known: KnownValue,
  resolve: (stat: AdapterStat | undefined) => void,
): void {
  resolve(keys.isCurrent(known) ? known.stat : undefined);
}
