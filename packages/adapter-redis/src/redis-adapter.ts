import { hash } from 'node:crypto';
import {
  type AdapterStat,
  assertValidKey,
  assertValidPrefix,
  type ErrorCode,
  ErrorCodes,
  type FsAdapter,
  type ReadOptions,
  redactError,
  redactKey,
  SessionStoreError,
  type StoredValue,
  type TouchOptions,
  type WriteOptions,
  type WriteResult,
} from '@sessionfs/core';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** Options of {@link createRedisAdapter}. Give one of `client`, `url` or `nodes`. */
export interface RedisAdapterOptions {
  /**
   * An ioredis client (`Redis` or `Cluster`) you created. The adapter does not close it:
   * it is yours.
   */
  client?: Redis | Cluster;
  /** A `redis://` URL; the adapter creates and owns the client. */
  url?: string;
  /** Redis Cluster seed nodes; the adapter creates and owns a `Cluster` client. */
  nodes?: { host: string; port: number }[];
  /** Extra ioredis options for a client the adapter creates. */
  redisOptions?: RedisOptions;
  /** Prefix of every Redis key the adapter writes. Default `sessionfs:`. */
  prefix?: string;
  /**
   * Longest time, in ms, an operation may take before it rejects with `ERR_UNAVAILABLE`,
   * so an outage fails requests quickly instead of hanging them. Default 2,000.
   */
  timeout?: number;
  /** Keys asked of each SCAN call while listing. Default 500. */
  scanCount?: number;
}

/** An `FsAdapter` over Redis. */
export interface RedisAdapter extends FsAdapter {
  /** The ioredis client in use. */
  readonly client: Redis | Cluster;
  /** The prefix of every Redis key the adapter writes. */
  readonly prefix: string;
  /** Closes the client if the adapter created it; a client you passed stays open. */
  close(): Promise<void>;
}

// Errors that mean "Redis is not reachable right now" rather than "Redis said no".
const UNAVAILABLE =
  /timed out|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTCONN|EHOSTUNREACH|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|Stream isn't writeable|offline queue|Failed to refresh slots|None of startup nodes|max retries/i;

function toStoreError(error: unknown, action: string, key: string): SessionStoreError {
  if (SessionStoreError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  let code: ErrorCode = ErrorCodes.IO;
  if (UNAVAILABLE.test(message) || (error as Error)?.name === 'MaxRetriesPerRequestError') {
    code = ErrorCodes.UNAVAILABLE;
  } else if (/^OOM/.test(message)) {
    code = ErrorCodes.NO_SPACE;
  } else if (/^(NOPERM|NOAUTH|WRONGPASS)/.test(message)) {
    code = ErrorCodes.PERMISSION;
  }
  // The key encodes a session id: shortened in the message, scrubbed from the cause.
  return new SessionStoreError(
    code,
    `@sessionfs/adapter-redis: cannot ${action} ${redactKey(key)}: ${message.split(key).join(redactKey(key))}`,
    { cause: redactError(error, key) },
  );
}

/** Escapes SCAN's glob characters so a prefix matches only itself. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * The version of a value: the SHA-1 of its bytes, in hex, as Redis's `redis.sha1hex`
 * computes it in the scripts below. Redis keeps no per-key version; a digest of the bytes
 * changes exactly when they do, and two writes of the same bytes sharing one is harmless:
 * the store only asks whether the bytes it knows are still the stored ones.
 */
function versionOf(value: Uint8Array): string {
  return hash('sha1', value, 'hex');
}

/**
 * ioredis's Buffer-replying script commands: present on every client, missing from its
 * type declarations. (`callBuffer` would do, but loses its command name under
 * auto-pipelining.)
 */
interface ScriptCommands {
  evalshaBuffer(sha: string, keys: 1, key: string, ...args: (string | number)[]): Promise<unknown>;
  evalBuffer(script: string, keys: 1, key: string, ...args: (string | number)[]): Promise<unknown>;
}

/** A Lua script run by its SHA-1 (`EVALSHA`), loaded with `EVAL` where Redis lacks it. */
class Script {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = hash('sha1', source, 'hex');
  }

  async run(client: Redis | Cluster, key: string, ...args: (string | number)[]): Promise<unknown> {
    const commands = client as unknown as ScriptCommands;
    try {
      return await commands.evalshaBuffer(this.sha, 1, key, ...args);
    } catch (error) {
      // A restarted server, or a cluster node that never ran the script.
      if (!/^NOSCRIPT/.test((error as Error)?.message ?? '')) throw error;
      return commands.evalBuffer(this.source, 1, key, ...args);
    }
  }
}

// Replies nil (missing) or `{size, pexpiretime, sha1}`: the value never leaves Redis.
const STAT = new Script(`
local size = redis.call('STRLEN', KEYS[1])
if size == 0 and redis.call('EXISTS', KEYS[1]) == 0 then return false end
return {size, redis.call('PEXPIRETIME', KEYS[1]), redis.sha1hex(redis.call('GET', KEYS[1]))}
`);

// PEXPIREAT only while the value is still the version the caller knows: 1 moved, 0 not.
const TOUCH_IF_VERSION = new Script(`
local data = redis.call('GET', KEYS[1])
if not data or redis.sha1hex(data) ~= ARGV[2] then return 0 end
return redis.call('PEXPIREAT', KEYS[1], ARGV[1])
`);

/** PXAT and PEXPIREAT take a positive integer; a past time makes the value expire at once. */
function redisTime(expiresAt: number): number {
  return Math.max(1, Math.round(expiresAt));
}

/** `[error, value]` pairs of an EXEC reply, failing on the first error. */
function replies(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error('transaction aborted');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/**
 * An `FsAdapter` over Redis or Redis Cluster. Values are plain string keys written
 * with `SET … PXAT`, so Redis expires them itself (`nativeExpiry`); `touch` is a
 * `PEXPIREAT`; listing is `SCAN` on every master, never `KEYS`.
 */
export function createRedisAdapter(options: RedisAdapterOptions = {}): RedisAdapter {
  const timeout = options.timeout ?? 2_000;
  if (!(timeout > 0)) {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      '@sessionfs/adapter-redis: option `timeout` must be a positive number of ms',
    );
  }
  const owned = options.client === undefined;
  const clientOptions: RedisOptions = {
    commandTimeout: timeout,
    // Fail a command during an outage instead of queueing it forever; the client keeps
    // reconnecting in the background and later commands succeed once Redis is back.
    maxRetriesPerRequest: 1,
    // Commands issued in the same tick go out in one write (and one syscall), as the
    // official client does by default: under load most requests share a round trip.
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    ...options.redisOptions,
  };
  let client: Redis | Cluster;
  if (options.client) client = options.client;
  else if (options.nodes) {
    client = new Cluster(options.nodes, {
      redisOptions: clientOptions,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    });
  } else if (options.url) client = new Redis(options.url, clientOptions);
  else {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      '@sessionfs/adapter-redis: give one of the options `client`, `url` or `nodes`',
    );
  }
  // ioredis emits connection errors as events; without a listener they would crash the
  // process. The operations themselves report failures as typed errors.
  if (owned) client.on('error', () => {});
  return new RedisKeyAdapter(
    client,
    owned,
    options.prefix ?? 'sessionfs:',
    timeout,
    options.scanCount ?? 500,
  );
}

class RedisKeyAdapter implements RedisAdapter {
  readonly capabilities = Object.freeze({ storesExpiry: true, nativeExpiry: true });
  private closed = false;
  /**
   * A single-server client whose own `commandTimeout` is within the adapter's bound
   * rejects late commands itself, also while they wait for a reconnection; the adapter
   * then skips its own timer per operation. (A cluster client can hold commands back
   * before any node sees them, so it always gets the timer.)
   */
  private readonly clientTimesOut: boolean;

  constructor(
    readonly client: Redis | Cluster,
    private readonly owned: boolean,
    readonly prefix: string,
    private readonly timeout: number,
    private readonly scanCount: number,
  ) {
    const own = client instanceof Redis ? client.options.commandTimeout : undefined;
    this.clientTimesOut = typeof own === 'number' && own > 0 && own <= timeout;
  }

  read(key: string, options: ReadOptions = {}): Promise<StoredValue | null> {
    return this.run('read', key, async (redisKey) => {
      // Two plain commands, pipelined into one round trip; the expiry first, so that a
      // value created between the two is read whole rather than taken for an empty one.
      // GETRANGE bounds what travels: one byte past the limit tells "too large".
      const [expiry, data] = await Promise.all([
        this.client.pexpiretime(redisKey),
        options.maxBytes === undefined
          ? this.client.getBuffer(redisKey)
          : this.client.getrangeBuffer(redisKey, 0, options.maxBytes),
      ]);
      // -2: no such key (a key deleted between the two reads as an empty value, which
      // the store takes for a dead record and finds gone when it sets it aside).
      if (expiry === -2 || data === null) return null;
      if (options.maxBytes !== undefined && data.byteLength > options.maxBytes) {
        throw new SessionStoreError(
          ErrorCodes.TOO_LARGE,
          `@sessionfs/adapter-redis: ${key} is larger than ${options.maxBytes} bytes`,
        );
      }
      return {
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        size: data.byteLength,
        version: versionOf(data),
        ...(expiry >= 0 ? { expiresAt: expiry } : {}),
      };
    });
  }

  write(key: string, data: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
    return this.run('write', key, async (redisKey) => {
      const value = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      if (options.expiresAt === undefined) await this.client.set(redisKey, value);
      else await this.client.set(redisKey, value, 'PXAT', redisTime(options.expiresAt));
      return { version: versionOf(value) };
    });
  }

  delete(key: string): Promise<void> {
    return this.run('delete', key, async (redisKey) => {
      await this.client.del(redisKey);
    });
  }

  async *list(prefix: string): AsyncIterable<string> {
    this.assertOpen();
    assertValidPrefix(prefix);
    const match = `${globEscape(this.prefix + prefix)}*`;
    const masters = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    for (const node of masters) {
      const stream = node.scanStream({ match, count: this.scanCount });
      try {
        for await (const batch of stream as AsyncIterable<string[]>) {
          for (const redisKey of batch) yield redisKey.slice(this.prefix.length);
        }
      } catch (error) {
        throw toStoreError(error, 'list', prefix);
      } finally {
        stream.destroy();
      }
    }
  }

  stat(key: string): Promise<AdapterStat | null> {
    return this.run('stat', key, async (redisKey) => {
      const reply = (await STAT.run(this.client, redisKey)) as null | [number, number, Buffer];
      if (reply === null) return null;
      const [size, expiry, version] = reply;
      return {
        size,
        version: version.toString('latin1'),
        ...(expiry >= 0 ? { expiresAt: expiry } : {}),
      };
    });
  }

  touch(key: string, expiresAt: number, options: TouchOptions = {}): Promise<boolean> {
    return this.run('touch', key, async (redisKey) => {
      const at = redisTime(expiresAt);
      const moved =
        options.ifVersion === undefined
          ? await this.client.pexpireat(redisKey, at)
          : await TOUCH_IF_VERSION.run(this.client, redisKey, at, options.ifVersion);
      return moved === 1;
    });
  }

  move(from: string, to: string): Promise<boolean> {
    return this.run('move', from, async (source) => {
      assertValidKey(to);
      const target = this.prefix + to;
      if (!(this.client instanceof Cluster)) {
        try {
          await this.client.rename(source, target);
          return true;
        } catch (error) {
          if (/no such key/i.test((error as Error).message)) return false;
          throw error;
        }
      }
      // Keys in different cluster slots cannot be renamed: copy, then delete.
      const [data, expiry] = replies(
        await this.client.multi().getBuffer(source).pexpiretime(source).exec(),
      ) as [Buffer | null, number];
      if (data === null) return false;
      if (expiry >= 0) await this.client.set(target, data, 'PXAT', expiry);
      else await this.client.set(target, data);
      await this.client.del(source);
      return true;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.owned) await this.client.quit().catch(() => this.client.disconnect());
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new SessionStoreError(ErrorCodes.CLOSED, '@sessionfs/adapter-redis: adapter is closed');
    }
  }

  /**
   * Runs one operation on the Redis key of `key` with the adapter's checks, its time
   * bound (also for a client the user configured without one) and its error mapping.
   */
  private async run<T>(
    action: string,
    key: string,
    operation: (redisKey: string) => Promise<T>,
  ): Promise<T> {
    this.assertOpen();
    assertValidKey(key);
    if (this.clientTimesOut) {
      try {
        return await operation(this.prefix + key);
      } catch (error) {
        throw toStoreError(error, action, key);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer within ${this.timeout} ms (timed out)`)),
        this.timeout,
      );
    });
    try {
      return await Promise.race([operation(this.prefix + key), deadline]);
    } catch (error) {
      throw toStoreError(error, action, key);
    } finally {
      clearTimeout(timer);
    }
  }
}
