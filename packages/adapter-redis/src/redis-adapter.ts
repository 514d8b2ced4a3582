import {
  type AdapterStat,
  assertValidKey,
  assertValidPrefix,
  closedError,
  type DeleteOptions,
  ErrorCodes,
  type FsAdapter,
  isValidKey,
  type MoveOptions,
  type OwnerIndex,
  type ReadOptions,
  type ReplaceOptions,
  SessionStoreError,
  type StoredValue,
  type TouchOptions,
  type WriteOptions,
  type WriteResult,
} from '@sessionfs/core/adapter';
import { isCluster, type RedisClient, type Send, senderOf } from './client.js';
import { closeWithin, createOwnedClient } from './connection.js';
import { Deadlines, InFlight } from './deadlines.js';
import { ADAPTER } from './errors.js';
import {
  expiryBytes,
  HEADER_BYTES,
  hasHeader,
  redisTime,
  statOf,
  storedValue,
  TAG_BYTES,
  writeHeader,
} from './header.js';
import { OWNER_SETS, scanBatches, startingWith } from './listing.js';
import type { RedisAdapterOptions } from './options.js';
import { ADD_OWNED, DELETE_IF, REPLACE_IF, STAT, TOUCH } from './scripts.js';
import type { TrackedValue } from './tracked-keys.js';
import { ClientSideCache, UNTRACKED, type ValueTracking } from './value-tracking.js';

/** An `FsAdapter` over Redis. */
export interface RedisAdapter extends FsAdapter {
  /** The `redis` client in use. */
  readonly client: RedisClient;
  /** The prefix of every Redis key the adapter writes. */
  readonly prefix: string;
  stat(key: string): Promise<AdapterStat | null>;
  touch(key: string, expiresAt: number, options?: TouchOptions): Promise<boolean>;
  move(from: string, to: string, options?: MoveOptions): Promise<boolean>;
  replace(key: string, data: Uint8Array, options: ReplaceOptions): Promise<WriteResult | null>;
  /**
   * The owner index: per owner, a Redis set of keys under the prefix, named
   * `<prefix>.owners:<owner>`, which expires at the latest expiry given to `add`.
   */
  readonly owners: OwnerIndex;
  /** Closes the client if the adapter created it; a client you passed stays open. */
  close(): Promise<void>;
}

/**
 * An `FsAdapter` over Redis or Redis Cluster. Values are plain string keys written with
 * `SET … PXAT` behind a small header, so Redis expires them itself (`nativeExpiry`) and a
 * read is one `GET`; `touch` moves both expiries in one script; listing is `SCAN` on
 * every master, never `KEYS`. The owner index keeps a set per owner, one key, so that all
 * of an owner's entries live on one cluster node.
 */
export function createRedisAdapter(options: RedisAdapterOptions = {}): RedisAdapter {
  const timeout = options.timeout ?? 2_000;
  if (!(timeout > 0)) invalid('option `timeout` must be a positive number of ms');
  const prefix = options.prefix ?? 'sessionfs:';
  const tracking = chooseTracking(options, prefix);
  return new RedisKeyAdapter(
    options.client ??
      createOwnedClient(
        options,
        timeout,
        tracking instanceof ClientSideCache ? tracking.hook : undefined,
      ),
    options.client === undefined,
    prefix,
    timeout,
    options.scanCount ?? 500,
    tracking,
  );
}

/** What the adapter remembers of values, from the option `clientSideCache`. */
function chooseTracking(options: RedisAdapterOptions, prefix: string): ValueTracking {
  const { clientSideCache } = options;
  if (!clientSideCache) return UNTRACKED;
  if (options.client !== undefined) {
    // Tracking is turned on in the handshake of every connection the client makes, which
    // only a client the adapter creates lets it do.
    invalid('option `clientSideCache` needs a client the adapter creates: give `url` or `nodes`');
  }
  const { maxEntries = 10_000, ttl = 5_000 } = clientSideCache === true ? {} : clientSideCache;
  if (!(Number.isInteger(maxEntries) && maxEntries > 0)) {
    invalid('option `clientSideCache.maxEntries` must be a positive integer');
  }
  if (!(ttl > 0)) invalid('option `clientSideCache.ttl` must be a positive number of ms');
  return new ClientSideCache(prefix, maxEntries, ttl);
}

function invalid(message: string): never {
  throw new SessionStoreError(ErrorCodes.INVALID_OPTION, `${ADAPTER}: ${message}`);
}

class RedisKeyAdapter implements RedisAdapter {
  // A SET of a session costs Redis less than the Lua script of a guarded touch or a stat.
  readonly capabilities = Object.freeze({
    nativeExpiry: true,
    cheapWrites: true,
  });
  readonly owners: OwnerIndex = Object.freeze({
    // The store adds an entry again whenever it moves a session's expiry: a set can then
    // expire with its sessions instead of waiting for a sweep.
    expiring: true,
    add: (owner: string, key: string, expiresAt?: number) => this.addOwned(owner, key, expiresAt),
    remove: (owner: string, key: string) => this.removeOwned(owner, key),
    keys: (owner: string) => this.ownedKeys(owner),
    owners: () => this.ownerNames(),
  });
  private closed = false;
  private readonly send: Send;
  private readonly deadlines: Deadlines;
  /** Settles once the client first connected; operations wait for it. */
  private connecting: Promise<unknown> | undefined;

  constructor(
    readonly client: RedisClient,
    private readonly owned: boolean,
    readonly prefix: string,
    private readonly timeout: number,
    private readonly scanCount: number,
    private readonly tracking: ValueTracking,
  ) {
    this.send = senderOf(client);
    this.deadlines = new Deadlines(timeout);
    if (!client.isOpen) {
      this.connecting = client.connect().then(
        () => {
          this.connecting = undefined;
        },
        // Reported by the operations waiting on it; the client keeps trying.
        () => {},
      );
    }
  }

  read(key: string, options: ReadOptions = {}): Promise<StoredValue | null> {
    const { maxBytes } = options;
    let token: TrackedValue | undefined;
    return this.run(
      'read',
      key,
      (redisKey) => {
        token = this.tracking.expect(redisKey);
        // One command: the header holds the version and the expiry. GETRANGE bounds what
        // travels: one byte past the limit tells "too large".
        return this.send(
          redisKey,
          true,
          maxBytes === undefined
            ? ['GET', redisKey]
            : ['GETRANGE', redisKey, '0', String(HEADER_BYTES + maxBytes)],
        );
      },
      (stored) => {
        const value = storedValue(key, stored as Buffer | null, maxBytes);
        this.tracking.learn(token, value?.size ?? 0, value?.version, value?.expiresAt);
        return value;
      },
    );
  }

  write(key: string, data: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
    return this.store(
      key,
      data,
      options.expiresAt,
      (redisKey, { value, expiresAt }) =>
        this.send(
          redisKey,
          false,
          expiresAt === undefined
            ? ['SET', redisKey, value]
            : ['SET', redisKey, value, 'PXAT', String(expiresAt)],
        ),
      (_, version) => ({ version }),
    );
  }

  /** `write`, only while the value still carries the tag `options.ifVersion` (one script). */
  replace(key: string, data: Uint8Array, options: ReplaceOptions): Promise<WriteResult | null> {
    return this.store(
      key,
      data,
      options.expiresAt,
      (redisKey, { value, expiresAt }) =>
        REPLACE_IF.run(
          this.send,
          redisKey,
          Buffer.from(options.ifVersion, 'hex'),
          value,
          expiresAt === undefined ? '' : String(expiresAt),
        ),
      (replaced, version) => (Number(replaced) === 1 ? { version } : null),
    );
  }

  delete(key: string, options: DeleteOptions = {}): Promise<boolean> {
    const { ifVersion, ifExpiredAt } = options;
    return this.run(
      'delete',
      key,
      (redisKey) => {
        this.tracking.forget(redisKey);
        return ifVersion === undefined && ifExpiredAt === undefined
          ? this.send(redisKey, false, ['DEL', redisKey])
          : DELETE_IF.run(
              this.send,
              redisKey,
              ifVersion === undefined ? '' : Buffer.from(ifVersion, 'hex'),
              ifExpiredAt === undefined ? '' : String(ifExpiredAt),
            );
      },
      (deleted) => Number(deleted) === 1,
    );
  }

  async *list(prefix: string): AsyncIterable<string> {
    this.assertOpen();
    assertValidPrefix(prefix);
    for await (const key of this.scan('list', prefix, this.prefix)) {
      // Not a key, so not a value: an owner set, or a name someone else put there.
      if (isValidKey(key)) yield key;
    }
  }

  /**
   * The names of the Redis keys that start with `namePrefix` then `prefix`, without
   * `namePrefix`, by `SCAN` on every master. Each step is bounded in time as every other
   * operation is: a listing over a Redis that is down (or never came up) fails with
   * `ERR_UNAVAILABLE` instead of waiting.
   */
  private async *scan(action: string, prefix: string, namePrefix: string): AsyncIterable<string> {
    const pattern = startingWith(namePrefix + prefix);
    const connecting = this.connecting;
    if (connecting) await this.bounded(action, prefix, () => connecting);
    const batches = scanBatches(this.client, pattern, this.scanCount)[Symbol.asyncIterator]();
    for (;;) {
      const step = await this.bounded(action, prefix, () => batches.next());
      if (step.done) return;
      for (const redisKey of step.value) yield redisKey.slice(namePrefix.length);
    }
  }

  /** The Redis key of `owner`'s set. */
  private ownerSet(owner: string): string {
    return this.prefix + OWNER_SETS + owner;
  }

  /** `owners.add`: SADD, and the set's expiry moved to the latest given, in one script. */
  private addOwned(owner: string, key: string, expiresAt: number | undefined): Promise<void> {
    return this.runOn('index a session under', owner, this.ownerSet(owner), async (setKey) => {
      assertValidKey(key);
      const at = expiresAt === undefined ? '' : String(redisTime(expiresAt));
      await ADD_OWNED.run(this.send, setKey, key, at);
    });
  }

  private removeOwned(owner: string, key: string): Promise<void> {
    return this.runOn('unindex a session of', owner, this.ownerSet(owner), async (setKey) => {
      assertValidKey(key);
      await this.send(setKey, false, ['SREM', setKey, key]);
    });
  }

  /**
   * `owners.keys`: the set by `SSCAN`, a bounded batch per command, so that an owner with
   * a huge set never blocks Redis or fills memory with one reply (as `SMEMBERS` would).
   */
  private async *ownedKeys(owner: string): AsyncIterable<string> {
    const setKey = this.ownerSet(owner);
    const count = String(this.scanCount);
    let cursor = '0';
    do {
      const [next, members] = await this.runOn(
        'list the sessions of',
        owner,
        setKey,
        (redisKey) => this.send(redisKey, true, ['SSCAN', redisKey, cursor, 'COUNT', count]),
        (reply) => reply as [Buffer, Buffer[]],
      );
      cursor = next.toString();
      for (const member of members) {
        const key = member.toString();
        if (isValidKey(key)) yield key;
      }
    } while (cursor !== '0');
  }

  private async *ownerNames(): AsyncIterable<string> {
    this.assertOpen();
    for await (const owner of this.scan('list the owners', '', this.prefix + OWNER_SETS)) {
      if (isValidKey(owner)) yield owner;
    }
  }

  stat(key: string): Promise<AdapterStat | null> {
    // Checked here as `run` does, since a remembered value is answered without it.
    const recalled = this.closed ? undefined : this.tracking.recall(this.prefix + key);
    if (recalled === undefined) return this.statFromRedis(key);
    return recalled.then((stat) => stat ?? this.statFromRedis(key));
  }

  /** `stat` by a script that reads the header only: the value never leaves Redis. */
  private statFromRedis(key: string): Promise<AdapterStat | null> {
    let token: TrackedValue | undefined;
    return this.run(
      'stat',
      key,
      (redisKey) => {
        token = this.tracking.expect(redisKey);
        return STAT.run(this.send, redisKey);
      },
      (reply) => {
        const stat = reply === null ? null : statOf(...(reply as [number, Buffer]));
        this.tracking.learn(token, stat?.size ?? 0, stat?.version, stat?.expiresAt);
        return stat;
      },
    );
  }

  touch(key: string, expiresAt: number, options: TouchOptions = {}): Promise<boolean> {
    return this.run(
      'touch',
      key,
      (redisKey) => {
        // What was known of its expiry no longer holds (nor of the value, for a past one).
        this.tracking.forget(redisKey);
        const at = redisTime(expiresAt);
        const tag = options.ifVersion === undefined ? '' : Buffer.from(options.ifVersion, 'hex');
        const liveAt = options.ifLiveAt === undefined ? '' : String(options.ifLiveAt);
        return TOUCH.run(this.send, redisKey, String(at), expiryBytes(at), tag, liveAt);
      },
      (moved) => Number(moved) === 1,
    );
  }

  move(from: string, to: string, options: MoveOptions = {}): Promise<boolean> {
    const { ifVersion } = options;
    return this.run('move', from, async (source) => {
      assertValidKey(to);
      const target = this.prefix + to;
      this.tracking.forget(source);
      this.tracking.forget(target);
      if (!isCluster(this.client) && ifVersion === undefined) {
        try {
          await this.send(source, false, ['RENAME', source, target]);
          return true;
        } catch (error) {
          if (/no such key/i.test((error as Error).message)) return false;
          throw error;
        }
      }
      // Keys in different cluster slots cannot be renamed, and a guarded rename would need
      // both keys in one script: copy, then delete the source only while it is the version
      // copied (the copy goes again if it is not).
      const [expiry, data] = (await Promise.all([
        this.send(source, true, ['PEXPIRETIME', source]),
        this.send(source, true, ['GET', source]),
      ])) as [number, Buffer | null];
      if (data === null) return false;
      const tag = hasHeader(data) ? data.subarray(0, TAG_BYTES) : Buffer.alloc(0);
      if (ifVersion !== undefined && tag.toString('hex') !== ifVersion) return false;
      await this.send(
        target,
        false,
        expiry >= 0 ? ['SET', target, data, 'PXAT', String(expiry)] : ['SET', target, data],
      );
      const deleted = await DELETE_IF.run(this.send, source, tag, '');
      if (Number(deleted) === 1) return true;
      await this.send(target, false, ['DEL', target]);
      return false;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.owned || !this.client.isOpen) return;
    // Not connected yet (or Redis hangs in the handshake): no reply is due to wait for.
    if (this.connecting !== undefined) return this.client.destroy();
    return closeWithin(this.client, this.timeout);
  }

  /** `step()` within the adapter's time bound, its failure mapped as `action`'s on `key`. */
  private bounded<T>(action: string, key: string, step: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const inFlight = this.deadlines.start(new InFlight(action, key, reject));
      step().then(
        (value) => {
          if (this.deadlines.finish(inFlight)) resolve(value);
        },
        (error: unknown) => {
          if (this.deadlines.finish(inFlight)) inFlight.fail(error);
        },
      );
    });
  }

  private assertOpen(): void {
    if (this.closed) throw closedError(ADAPTER);
  }

  /**
   * Sends `command` with `data` behind a fresh header (see `writeHeader`), and answers
   * from its reply and the version that header names.
   */
  private store<R, T>(
    key: string,
    data: Uint8Array,
    expiresAt: number | undefined,
    command: (
      redisKey: string,
      stored: { value: Buffer; expiresAt: number | undefined },
    ) => Promise<R>,
    toResult: (reply: R, version: string) => T,
  ): Promise<T> {
    let version = '';
    let at: number | undefined;
    let token: TrackedValue | undefined;
    return this.run(
      'write',
      key,
      (redisKey) => {
        at = expiresAt === undefined ? undefined : redisTime(expiresAt);
        const value = Buffer.allocUnsafe(HEADER_BYTES + data.byteLength);
        version = writeHeader(value, at);
        value.set(data, HEADER_BYTES);
        token = this.tracking.expect(redisKey);
        return command(redisKey, { value, expiresAt: at });
      },
      (reply) => {
        const result = toResult(reply, version);
        // Nothing written (a replace of a version no longer there): nothing known.
        this.tracking.learn(token, data.byteLength, result === null ? undefined : version, at);
        return result;
      },
    );
  }

  /**
   * Runs one operation on the Redis key of `key` with the adapter's checks, its time
   * bound (also while the first connection is being made) and its error mapping.
   */
  private run<R, T = R>(
    action: string,
    key: string,
    operation: (redisKey: string) => Promise<R>,
    toResult?: (reply: R) => T,
  ): Promise<T> {
    return this.runOn(action, key, this.prefix + key, operation, toResult);
  }

  /** `run`, on a Redis key other than the value's: `key` is then checked and reported. */
  private runOn<R, T = R>(
    action: string,
    key: string,
    redisKey: string,
    operation: (redisKey: string) => Promise<R>,
    toResult?: (reply: R) => T,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.assertOpen();
      assertValidKey(key);
      const inFlight = this.deadlines.start(new InFlight(action, key, reject));
      const started = this.connecting
        ? // An operation waiting for the first connection never starts once reported failed.
          this.connecting.then(() => {
            if (inFlight.late) throw new Error('timed out before Redis was first reached');
            return operation(redisKey);
          })
        : tryStart(operation, redisKey);
      started.then(
        (reply) => {
          if (!this.deadlines.finish(inFlight)) return;
          try {
            resolve(toResult ? toResult(reply) : (reply as unknown as T));
          } catch (error) {
            inFlight.fail(error);
          }
        },
        (error: unknown) => {
          if (this.deadlines.finish(inFlight)) inFlight.fail(error);
        },
      );
    });
  }
}

/** `operation(argument)`, with a synchronous throw as a rejection. */
function tryStart<T>(operation: (argument: string) => Promise<T>, argument: string): Promise<T> {
  try {
    return operation(argument);
  } catch (error) {
    return Promise.reject(error);
  }
}
