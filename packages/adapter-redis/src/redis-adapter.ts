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
  type WriteOptions,
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

  constructor(
    readonly client: Redis | Cluster,
    private readonly owned: boolean,
    readonly prefix: string,
    private readonly timeout: number,
    private readonly scanCount: number,
  ) {}

  read(key: string, options: ReadOptions = {}): Promise<StoredValue | null> {
    return this.run('read', key, async (redisKey) => {
      const transaction = this.client.multi().exists(redisKey).pexpiretime(redisKey);
      // GETRANGE bounds what travels: one byte past the limit tells "too large".
      if (options.maxBytes !== undefined) transaction.getrangeBuffer(redisKey, 0, options.maxBytes);
      else transaction.getBuffer(redisKey);
      const [exists, expiry, data] = replies(await transaction.exec()) as [number, number, Buffer];
      if (exists === 0) return null;
      if (options.maxBytes !== undefined && data.byteLength > options.maxBytes) {
        throw new SessionStoreError(
          ErrorCodes.TOO_LARGE,
          `@sessionfs/adapter-redis: ${key} is larger than ${options.maxBytes} bytes`,
        );
      }
      return {
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        size: data.byteLength,
        ...(expiry >= 0 ? { expiresAt: expiry } : {}),
      };
    });
  }

  write(key: string, data: Uint8Array, options: WriteOptions = {}): Promise<void> {
    return this.run('write', key, async (redisKey) => {
      const value = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      if (options.expiresAt === undefined) await this.client.set(redisKey, value);
      else {
        // PXAT takes a positive integer; a past time makes the value expire at once.
        await this.client.set(redisKey, value, 'PXAT', Math.max(1, Math.round(options.expiresAt)));
      }
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
      const [exists, size, expiry] = replies(
        await this.client.multi().exists(redisKey).strlen(redisKey).pexpiretime(redisKey).exec(),
      ) as [number, number, number];
      if (exists === 0) return null;
      return { size, ...(expiry >= 0 ? { expiresAt: expiry } : {}) };
    });
  }

  touch(key: string, expiresAt: number): Promise<boolean> {
    return this.run('touch', key, async (redisKey) => {
      return (await this.client.pexpireat(redisKey, Math.max(1, Math.round(expiresAt)))) === 1;
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
