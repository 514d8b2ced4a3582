import { hash, randomBytes } from 'node:crypto';
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
import { createClient, createCluster, RESP_TYPES, type RedisClientOptions } from 'redis';

/**
 * A client of the official `redis` package, `createClient()` or `createCluster()`, as the
 * adapter uses it. (Written out rather than taken from the package: its client types are
 * generic over modules, scripts and RESP version, and a client created with other options
 * than the defaults would not match them.)
 */
export interface RedisClient {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  withTypeMapping(mapping: Record<number, unknown>): unknown;
}

/** Options of {@link createRedisAdapter}. Give one of `client`, `url` or `nodes`. */
export interface RedisAdapterOptions {
  /**
   * A client (`createClient()` or `createCluster()` of the `redis` package) you created.
   * The adapter connects it if you have not, and never closes it: it is yours. Create it
   * with `disableOfflineQueue: true` so that commands fail at once while Redis is down
   * rather than run late, after the adapter has reported them failed.
   */
  client?: RedisClient;
  /** A `redis://` URL; the adapter creates, connects and owns the client. */
  url?: string;
  /** Redis Cluster seed nodes; the adapter creates and owns a cluster client. */
  nodes?: { host: string; port: number }[];
  /** Extra `createClient` options for a client (or each cluster node) the adapter creates. */
  redisOptions?: RedisClientOptions;
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
  /** The `redis` client in use. */
  readonly client: RedisClient;
  /** The prefix of every Redis key the adapter writes. */
  readonly prefix: string;
  /** Closes the client if the adapter created it; a client you passed stays open. */
  close(): Promise<void>;
}

// Errors that mean "Redis is not reachable right now" rather than "Redis said no".
const UNAVAILABLE =
  /timed out|client is (closed|offline)|Socket closed unexpectedly|Connection timeout|Socket timeout|root nodes are unavailable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTCONN|EHOSTUNREACH|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN/i;

function toStoreError(error: unknown, action: string, key: string): SessionStoreError {
  if (SessionStoreError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  let code: ErrorCode = ErrorCodes.IO;
  if (UNAVAILABLE.test(message)) code = ErrorCodes.UNAVAILABLE;
  else if (/^OOM/.test(message)) code = ErrorCodes.NO_SPACE;
  else if (/^(NOPERM|NOAUTH|WRONGPASS)/.test(message)) code = ErrorCodes.PERMISSION;
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
 * Every value is stored behind a 20-byte header: a 12-byte tag naming the write, then the
 * expiry (float64, big-endian, epoch ms; -1 for none).
 *
 * - The tag is the version the store asks about. Redis keeps no per-key version, and a
 *   digest of the bytes would cost a hash of the whole value on every read, write and
 *   guarded touch (in Redis too, inside the script); the tag is compared by reading its
 *   12 bytes. It is this process's random token (8 bytes, drawn once) and a counter
 *   (4 bytes), so no two writes share one.
 * - The expiry is the one Redis enforces (`PXAT`, `PEXPIREAT`), kept beside the data so
 *   that a read is one `GET`, not `GET` and `PEXPIRETIME`; `touch` moves both in one
 *   script. (A TTL changed behind the adapter's back, by `PERSIST` say, is not seen.)
 */
const TAG_BYTES = 12;
const HEADER_BYTES = TAG_BYTES + 8;
const NO_EXPIRY = -1;
const processToken = randomBytes(8);
let writeCounter = 0;

/** The header of a new write: a fresh tag, then the expiry. */
function newHeader(expiresAt: number | undefined): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  processToken.copy(header, 0);
  writeCounter = (writeCounter + 1) >>> 0;
  header.writeUInt32BE(writeCounter, 8);
  header.writeDoubleBE(expiresAt ?? NO_EXPIRY, TAG_BYTES);
  return header;
}

/** The expiry as the header holds it: 8 bytes, float64 big-endian. */
function expiryBytes(expiresAt: number): Buffer {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeDoubleBE(expiresAt, 0);
  return bytes;
}

/** What a stored value's header says: its version and expiry, or nothing if it has none. */
function describeHeader(stored: Buffer): { version?: string; expiresAt?: number } {
  if (stored.byteLength < HEADER_BYTES) return {};
  const expiresAt = stored.readDoubleBE(TAG_BYTES);
  return {
    version: stored.toString('hex', 0, TAG_BYTES),
    ...(expiresAt >= 0 ? { expiresAt } : {}),
  };
}

/**
 * What the adapter asks of a client, with bulk strings as `Buffer`s. The `redis`
 * package's own types are generic over modules, scripts and type mappings; this is the
 * little the adapter uses.
 */
interface Commands {
  pExpireTime(key: string): Promise<number>;
  get(key: string): Promise<Buffer | null>;
  getRange(key: string, start: number, end: number): Promise<Buffer>;
  set(
    key: string,
    value: Buffer,
    options?: { expiration: { type: 'PXAT'; value: number } },
  ): Promise<unknown>;
  del(key: string): Promise<number>;
  rename(from: string, to: string): Promise<unknown>;
  evalSha(
    sha: string,
    options: { keys: string[]; arguments: (string | Buffer)[] },
  ): Promise<unknown>;
  eval(
    script: string,
    options: { keys: string[]; arguments: (string | Buffer)[] },
  ): Promise<unknown>;
}

/** A client able to list keys by `SCAN`, as one server (or one cluster master) is. */
interface Scanner {
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
}

/** A cluster client: keys live on several masters. */
interface ClusterClient extends RedisClient {
  readonly masters: unknown[];
  nodeClient(master: unknown): Promise<Scanner>;
}

function isCluster(client: RedisClient): client is ClusterClient {
  return typeof (client as { nodeClient?: unknown }).nodeClient === 'function';
}

/** A Lua script run by its SHA-1 (`EVALSHA`), loaded with `EVAL` where Redis lacks it. */
class Script {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = hash('sha1', source, 'hex');
  }

  async run(commands: Commands, key: string, ...args: (string | Buffer)[]): Promise<unknown> {
    const options = { keys: [key], arguments: args };
    try {
      return await commands.evalSha(this.sha, options);
    } catch (error) {
      // A restarted server, or a cluster node that never ran the script.
      if (!/^NOSCRIPT/.test((error as Error)?.message ?? '')) throw error;
      return commands.eval(this.source, options);
    }
  }
}

// Replies nil (missing) or `{stored size, header}`: the value never leaves Redis.
const STAT = new Script(`
local size = redis.call('STRLEN', KEYS[1])
if size == 0 and redis.call('EXISTS', KEYS[1]) == 0 then return false end
return {size, redis.call('GETRANGE', KEYS[1], 0, ${HEADER_BYTES - 1})}
`);

// Moves the expiry Redis enforces and the one in the header together; with a tag in
// ARGV[3], only while the value still carries it. 1 moved, 0 not. (An expiry in the past
// deletes the key: the header is then left alone, or SETRANGE would create it again.)
const TOUCH = new Script(`
if ARGV[3] ~= '' and redis.call('GETRANGE', KEYS[1], 0, ${TAG_BYTES - 1}) ~= ARGV[3] then return 0 end
if redis.call('PEXPIREAT', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('STRLEN', KEYS[1]) >= ${HEADER_BYTES} then redis.call('SETRANGE', KEYS[1], ${TAG_BYTES}, ARGV[2]) end
return 1
`);

/** PXAT and PEXPIREAT take a positive integer; a past time makes the value expire at once. */
function redisTime(expiresAt: number): number {
  return Math.max(1, Math.round(expiresAt));
}

/** How long a client the adapter creates waits between reconnection attempts. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 100, 1_000);

/**
 * An `FsAdapter` over Redis or Redis Cluster. Values are plain string keys written with
 * `SET … PXAT` behind a small header, so Redis expires them itself (`nativeExpiry`) and a
 * read is one `GET`; `touch` moves both expiries in one script; listing is `SCAN` on
 * every master, never `KEYS`.
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
  const clientOptions: RedisClientOptions = {
    // While Redis is down, fail commands at once instead of queueing them to run later,
    // after the store has reported them failed. The client keeps reconnecting in the
    // background and later commands succeed once Redis is back.
    disableOfflineQueue: true,
    ...options.redisOptions,
    socket: {
      connectTimeout: timeout,
      reconnectStrategy: reconnectDelay,
      ...options.redisOptions?.socket,
    } as NonNullable<RedisClientOptions['socket']>,
  };
  let client: RedisClient;
  if (options.client) client = options.client;
  else if (options.nodes) {
    client = createCluster({
      rootNodes: options.nodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })),
      defaults: clientOptions,
    }) as unknown as RedisClient;
  } else if (options.url) {
    client = createClient({ ...clientOptions, url: options.url }) as unknown as RedisClient;
  } else {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      '@sessionfs/adapter-redis: give one of the options `client`, `url` or `nodes`',
    );
  }
  // The client reports connection errors as events; without a listener they would crash
  // the process. The operations themselves report failures as typed errors.
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
  /** Bulk strings as `Buffer`s: values are binary-safe. */
  private readonly commands: Commands;
  /** Settles once the client first connected; operations wait for it. */
  private connecting: Promise<unknown> | undefined;

  constructor(
    readonly client: RedisClient,
    private readonly owned: boolean,
    readonly prefix: string,
    private readonly timeout: number,
    private readonly scanCount: number,
  ) {
    this.commands = client.withTypeMapping({
      [RESP_TYPES.BLOB_STRING]: Buffer,
    }) as unknown as Commands;
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
    return this.run('read', key, async (redisKey) => {
      // One command: the header holds the version and the expiry. GETRANGE bounds what
      // travels: one byte past the limit tells "too large".
      const stored =
        options.maxBytes === undefined
          ? await this.commands.get(redisKey)
          : await this.commands.getRange(redisKey, 0, HEADER_BYTES + options.maxBytes);
      // GETRANGE reads a missing key as empty; every value the adapter writes has a header.
      if (stored === null || stored.byteLength === 0) return null;
      const header = describeHeader(stored);
      // Without a header: not written by this adapter; the store sets it aside.
      const data = header.version === undefined ? stored : stored.subarray(HEADER_BYTES);
      if (options.maxBytes !== undefined && data.byteLength > options.maxBytes) {
        throw new SessionStoreError(
          ErrorCodes.TOO_LARGE,
          `@sessionfs/adapter-redis: ${key} is larger than ${options.maxBytes} bytes`,
        );
      }
      return {
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        size: data.byteLength,
        ...header,
      };
    });
  }

  write(key: string, data: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
    return this.run('write', key, async (redisKey) => {
      const expiresAt = options.expiresAt === undefined ? undefined : redisTime(options.expiresAt);
      const value = Buffer.allocUnsafe(HEADER_BYTES + data.byteLength);
      newHeader(expiresAt).copy(value, 0);
      value.set(data, HEADER_BYTES);
      if (expiresAt === undefined) await this.commands.set(redisKey, value);
      else {
        await this.commands.set(redisKey, value, {
          expiration: { type: 'PXAT', value: expiresAt },
        });
      }
      return { version: value.toString('hex', 0, TAG_BYTES) };
    });
  }

  delete(key: string): Promise<void> {
    return this.run('delete', key, async (redisKey) => {
      await this.commands.del(redisKey);
    });
  }

  async *list(prefix: string): AsyncIterable<string> {
    this.assertOpen();
    assertValidPrefix(prefix);
    const match = `${globEscape(this.prefix + prefix)}*`;
    try {
      await this.connecting;
      const client = this.client;
      const scanners: Scanner[] = isCluster(client)
        ? await Promise.all(client.masters.map((master) => client.nodeClient(master)))
        : [client as unknown as Scanner];
      for (const scanner of scanners) {
        for await (const batch of scanner.scanIterator({ MATCH: match, COUNT: this.scanCount })) {
          for (const redisKey of batch) yield redisKey.slice(this.prefix.length);
        }
      }
    } catch (error) {
      throw toStoreError(error, 'list', prefix);
    }
  }

  stat(key: string): Promise<AdapterStat | null> {
    return this.run('stat', key, async (redisKey) => {
      const reply = (await STAT.run(this.commands, redisKey)) as null | [number, Buffer];
      if (reply === null) return null;
      const [stored, headerBytes] = reply;
      const header = describeHeader(headerBytes);
      return {
        size: header.version === undefined ? stored : stored - HEADER_BYTES,
        ...header,
      };
    });
  }

  touch(key: string, expiresAt: number, options: TouchOptions = {}): Promise<boolean> {
    return this.run('touch', key, async (redisKey) => {
      const at = redisTime(expiresAt);
      const tag = options.ifVersion === undefined ? '' : Buffer.from(options.ifVersion, 'hex');
      const moved = await TOUCH.run(this.commands, redisKey, String(at), expiryBytes(at), tag);
      return Number(moved) === 1;
    });
  }

  move(from: string, to: string): Promise<boolean> {
    return this.run('move', from, async (source) => {
      assertValidKey(to);
      const target = this.prefix + to;
      if (!isCluster(this.client)) {
        try {
          await this.commands.rename(source, target);
          return true;
        } catch (error) {
          if (/no such key/i.test((error as Error).message)) return false;
          throw error;
        }
      }
      // Keys in different cluster slots cannot be renamed: copy, then delete.
      const [expiry, data] = await Promise.all([
        this.commands.pExpireTime(source),
        this.commands.get(source),
      ]);
      if (data === null) return false;
      if (expiry >= 0) {
        await this.commands.set(target, data, { expiration: { type: 'PXAT', value: expiry } });
      } else await this.commands.set(target, data);
      await this.commands.del(source);
      return true;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.owned) return;
    await this.connecting;
    try {
      if (this.client.isOpen) await this.client.close();
    } catch {
      this.client.destroy();
    }
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new SessionStoreError(ErrorCodes.CLOSED, '@sessionfs/adapter-redis: adapter is closed');
    }
  }

  /**
   * Runs one operation on the Redis key of `key` with the adapter's checks, its time
   * bound (also while the first connection is being made) and its error mapping.
   */
  private async run<T>(
    action: string,
    key: string,
    operation: (redisKey: string) => Promise<T>,
  ): Promise<T> {
    this.assertOpen();
    assertValidKey(key);
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        reject(new Error(`Redis did not answer within ${this.timeout} ms (timed out)`));
      }, this.timeout);
    });
    // An operation waiting for the first connection never starts once reported failed.
    const start = () => {
      if (late) throw new Error('timed out before Redis was first reached');
      return operation(this.prefix + key);
    };
    try {
      return await Promise.race([
        this.connecting ? this.connecting.then(start) : start(),
        deadline,
      ]);
    } catch (error) {
      throw toStoreError(error, action, key);
    } finally {
      clearTimeout(timer);
    }
  }
}
