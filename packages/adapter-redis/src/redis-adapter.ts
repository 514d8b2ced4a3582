import { hash, randomBytes } from 'node:crypto';
import {
  type AdapterStat,
  assertValidKey,
  assertValidPrefix,
  type DeleteOptions,
  type ErrorCode,
  ErrorCodes,
  type FsAdapter,
  type MoveOptions,
  type ReadOptions,
  redactError,
  redactKey,
  SessionStoreError,
  type StoredValue,
  type TouchOptions,
  type WriteOptions,
  type WriteResult,
} from '@sessionfs/core/adapter';
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
  // The two clients' raw command methods differ (a cluster's takes the key first).
  sendCommand(...args: never[]): Promise<unknown>;
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
   * Time, in ms, after which an operation Redis has not answered rejects with
   * `ERR_UNAVAILABLE` (between `timeout` and 1.25 × `timeout`), so an outage or a hung
   * server fails requests quickly instead of hanging them. Default 2,000.
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
  stat(key: string): Promise<AdapterStat | null>;
  touch(key: string, expiresAt: number, options?: TouchOptions): Promise<boolean>;
  move(from: string, to: string, options?: MoveOptions): Promise<boolean>;
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
const processTokenHex = processToken.toString('hex');
let writeCounter = 0;

/**
 * Writes the header of a new write at the start of `value` (a fresh tag, then the expiry)
 * and returns the tag as the version, in hex as `versionIn` reads it back.
 */
function writeHeader(value: Buffer, expiresAt: number | undefined): string {
  processToken.copy(value, 0);
  writeCounter = (writeCounter + 1) >>> 0;
  value.writeUInt32BE(writeCounter, 8);
  value.writeDoubleBE(expiresAt ?? NO_EXPIRY, TAG_BYTES);
  return processTokenHex + writeCounter.toString(16).padStart(8, '0');
}

/** The expiry as the header holds it: 8 bytes, float64 big-endian. */
function expiryBytes(expiresAt: number): Buffer {
  const bytes = Buffer.allocUnsafe(8);
  bytes.writeDoubleBE(expiresAt, 0);
  return bytes;
}

/** Whether `stored` begins with a header (every value the adapter writes does). */
function hasHeader(stored: Buffer): boolean {
  return stored.byteLength >= HEADER_BYTES;
}

/** The version a header names: its tag, as hex. */
function versionIn(stored: Buffer): string {
  return stored.toString('hex', 0, TAG_BYTES);
}

/** The expiry a header holds, or `undefined` for none. */
function expiryIn(stored: Buffer): number | undefined {
  const expiresAt = stored.readDoubleBE(TAG_BYTES);
  return expiresAt >= 0 ? expiresAt : undefined;
}

/** Arguments of one Redis command, its name first. */
type CommandArguments = (string | Buffer)[];

/**
 * Sends one command about `redisKey` and resolves its reply, bulk strings as `Buffer`s.
 * Raw commands (`sendCommand`) rather than the client's command methods: those add two
 * async layers, an argument parser and a reply transform to every call (several µs of
 * a request in one-off profiles), for replies the adapter reads itself.
 */
type Send = (redisKey: string, readonly: boolean, args: CommandArguments) => Promise<unknown>;

/**
 * Bulk strings as `Buffer`s: values are binary-safe. Not frozen: the client spreads these
 * options into every command's, and spreading a frozen object takes V8's slow path (about
 * a µs a request in a one-off micro-benchmark).
 */
const BINARY_REPLIES = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };

/** How a client sends a raw command: a cluster client routes it by its key. */
function senderOf(client: RedisClient): Send {
  if (isCluster(client)) {
    return (redisKey, readonly, args) =>
      client.sendCommand(redisKey, readonly, args, BINARY_REPLIES);
  }
  const server = client as ServerClient;
  return (_, __, args) => server.sendCommand(args, BINARY_REPLIES);
}

/** A client able to list keys by `SCAN`, as one server (or one cluster master) is. */
interface Scanner {
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
}

/** A client of one server, as the adapter sends it raw commands. */
interface ServerClient extends RedisClient {
  sendCommand(args: CommandArguments, options: object): Promise<unknown>;
}

/** A cluster client: keys live on several masters, and a command goes by its key. */
interface ClusterClient extends RedisClient {
  readonly masters: unknown[];
  nodeClient(master: unknown): Promise<Scanner>;
  sendCommand(
    firstKey: string,
    isReadonly: boolean,
    args: CommandArguments,
    options: object,
  ): Promise<unknown>;
}

function isCluster(client: RedisClient): client is ClusterClient {
  return typeof (client as { nodeClient?: unknown }).nodeClient === 'function';
}

/** A Lua script run by its SHA-1 (`EVALSHA`), loaded with `EVAL` where Redis lacks it. */
class Script {
  private readonly sha: string;

  constructor(
    private readonly source: string,
    private readonly readonly: boolean,
  ) {
    this.sha = hash('sha1', source, 'hex');
  }

  run(send: Send, redisKey: string, ...args: CommandArguments): Promise<unknown> {
    return send(redisKey, this.readonly, ['EVALSHA', this.sha, '1', redisKey, ...args]).catch(
      (error: unknown) => {
        // A restarted server, or a cluster node that never ran the script.
        if (!/^NOSCRIPT/.test((error as Error)?.message ?? '')) throw error;
        return send(redisKey, this.readonly, ['EVAL', this.source, '1', redisKey, ...args]);
      },
    );
  }
}

// Replies nil (missing) or `{stored size, header}`: the value never leaves Redis.
const STAT = new Script(
  `
local size = redis.call('STRLEN', KEYS[1])
if size == 0 and redis.call('EXISTS', KEYS[1]) == 0 then return false end
return {size, redis.call('GETRANGE', KEYS[1], 0, ${HEADER_BYTES - 1})}
`,
  true,
);

// Whether the value's header holds an expiry at or before ARGV[n] (ms): a value without
// a header or without an expiry has none.
const expiredBy = (argument: number) => `
local function expired_by(limit)
  local header = redis.call('GETRANGE', KEYS[1], ${TAG_BYTES}, ${HEADER_BYTES - 1})
  if #header < 8 then return false end
  local expires_at = struct.unpack('>d', header)
  return expires_at >= 0 and expires_at <= tonumber(limit)
end
local limit = ARGV[${argument}]`;

// Moves the expiry Redis enforces and the one in the header together; with a tag in
// ARGV[3], only while the value still carries it; with a time in ARGV[4], only while the
// header's expiry is after it (never bringing an expired value back). 1 moved, 0 not. (An
// expiry in the past deletes the key: the header is then left alone, or SETRANGE would
// create it again.)
const TOUCH = new Script(
  `${expiredBy(4)}
if ARGV[3] ~= '' and redis.call('GETRANGE', KEYS[1], 0, ${TAG_BYTES - 1}) ~= ARGV[3] then return 0 end
if limit ~= '' and expired_by(limit) then return 0 end
if redis.call('PEXPIREAT', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('STRLEN', KEYS[1]) >= ${HEADER_BYTES} then redis.call('SETRANGE', KEYS[1], ${TAG_BYTES}, ARGV[2]) end
return 1
`,
  false,
);

// Deletes the value only while it carries the tag in ARGV[1] (if any) and its header's
// expiry is at or before ARGV[2] (if any), in one step. 1 deleted, 0 not.
const DELETE_IF = new Script(
  `${expiredBy(2)}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] ~= '' and redis.call('GETRANGE', KEYS[1], 0, ${TAG_BYTES - 1}) ~= ARGV[1] then return 0 end
if limit ~= '' and not expired_by(limit) then return 0 end
return redis.call('DEL', KEYS[1])
`,
  false,
);

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

/**
 * An operation in flight: when it started, and how to fail the promise `run` returned
 * for it. One object holds both, rather than a closure beside a record: every Redis call
 * makes one, and at thousands a second each allocation shows in the collector's time.
 */
class InFlight {
  /**
   * `performance.now()` when it started, in whole ms: a small integer, stored without a
   * box of its own (the watch's precision is a quarter of `timeout` anyway).
   */
  readonly startedAt = Math.floor(performance.now());
  /** Set once it was reported failed for taking too long. */
  late = false;
  /** Its neighbours in start order, while in flight. */
  older: InFlight | undefined = undefined;
  newer: InFlight | undefined = undefined;

  constructor(
    private readonly action: string,
    private readonly key: string,
    private readonly reject: (error: unknown) => void,
  ) {}

  /** Rejects with the store's error for `error`. */
  fail(error: unknown): void {
    this.reject(toStoreError(error, this.action, this.key));
  }
}

/**
 * Bounds every operation in time with one timer for all of them, rather than a timer, a
 * second promise and a race per operation (measurable at thousands of requests a second).
 * The timer runs only while operations are in flight, checks every quarter of `timeout`,
 * and fails those older than `timeout`: each fails between `timeout` and 1.25 × `timeout`.
 *
 * The operations in flight form a list linked through themselves, oldest first (the
 * timeout is the same for all). A `Set` did the same work but made the garbage collector
 * keep about five times as much per collection under load (in a one-off trial with
 * `--trace-gc-nvp`, the store on Redis spent half again as much CPU per request).
 */
class Deadlines {
  private oldest: InFlight | undefined;
  private newest: InFlight | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeout: number) {}

  /**
   * Watches `operation` from now on. (It holds its start time itself, not a count of
   * checks: a busy event loop runs a late interval once, not once per period missed, and
   * a count would then fail operations late.)
   */
  start(operation: InFlight): InFlight {
    operation.older = this.newest;
    if (this.newest) this.newest.newer = operation;
    else this.oldest = operation;
    this.newest = operation;
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.failLate(), Math.max(1, this.timeout / 4));
      // Nothing to wait for once the operations settle: never keep a process alive.
      this.timer.unref();
    }
    return operation;
  }

  /** Whether `operation` settled in time (it was not failed as late). */
  finish(operation: InFlight): boolean {
    if (!operation.late) this.unlink(operation);
    return !operation.late;
  }

  private unlink(operation: InFlight): void {
    const { older, newer } = operation;
    if (older) older.newer = newer;
    else this.oldest = newer;
    if (newer) newer.older = older;
    else this.newest = older;
    operation.older = undefined;
    operation.newer = undefined;
  }

  private failLate(): void {
    // Whole ms on both sides: more than `timeout` of them is at least `timeout` of time.
    const now = Math.floor(performance.now());
    while (this.oldest !== undefined && now - this.oldest.startedAt > this.timeout) {
      const operation = this.oldest;
      this.unlink(operation);
      operation.late = true;
      operation.fail(new Error(`Redis did not answer within ${this.timeout} ms (timed out)`));
    }
    if (this.oldest === undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** The stored value, as `read` hands it to the store; `null` when there is none. */
function storedValue(
  key: string,
  stored: Buffer | null,
  maxBytes: number | undefined,
): StoredValue | null {
  // GETRANGE reads a missing key as empty; every value the adapter writes has a header.
  if (stored === null || stored.byteLength === 0) return null;
  // Without a header: not written by this adapter; the store sets it aside.
  const headed = hasHeader(stored);
  const data = headed ? stored.subarray(HEADER_BYTES) : stored;
  if (maxBytes !== undefined && data.byteLength > maxBytes) {
    throw new SessionStoreError(
      ErrorCodes.TOO_LARGE,
      `@sessionfs/adapter-redis: ${key} is larger than ${maxBytes} bytes`,
    );
  }
  return {
    data,
    size: data.byteLength,
    version: headed ? versionIn(stored) : undefined,
    expiresAt: headed ? expiryIn(stored) : undefined,
  };
}

class RedisKeyAdapter implements RedisAdapter {
  // A SET of a session costs Redis less than the Lua script of a guarded touch or a stat.
  readonly capabilities = Object.freeze({
    nativeExpiry: true,
    cheapWrites: true,
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
    return this.run(
      'read',
      key,
      (redisKey) =>
        // One command: the header holds the version and the expiry. GETRANGE bounds what
        // travels: one byte past the limit tells "too large".
        this.send(
          redisKey,
          true,
          maxBytes === undefined
            ? ['GET', redisKey]
            : ['GETRANGE', redisKey, '0', String(HEADER_BYTES + maxBytes)],
        ),
      (stored) => storedValue(key, stored as Buffer | null, maxBytes),
    );
  }

  write(key: string, data: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
    let version = '';
    return this.run(
      'write',
      key,
      (redisKey) => {
        const expiresAt =
          options.expiresAt === undefined ? undefined : redisTime(options.expiresAt);
        const value = Buffer.allocUnsafe(HEADER_BYTES + data.byteLength);
        version = writeHeader(value, expiresAt);
        value.set(data, HEADER_BYTES);
        return this.send(
          redisKey,
          false,
          expiresAt === undefined
            ? ['SET', redisKey, value]
            : ['SET', redisKey, value, 'PXAT', String(expiresAt)],
        );
      },
      () => ({ version }),
    );
  }

  delete(key: string, options: DeleteOptions = {}): Promise<boolean> {
    const { ifVersion, ifExpiredAt } = options;
    return this.run(
      'delete',
      key,
      (redisKey) =>
        ifVersion === undefined && ifExpiredAt === undefined
          ? this.send(redisKey, false, ['DEL', redisKey])
          : DELETE_IF.run(
              this.send,
              redisKey,
              ifVersion === undefined ? '' : Buffer.from(ifVersion, 'hex'),
              ifExpiredAt === undefined ? '' : String(ifExpiredAt),
            ),
      (deleted) => Number(deleted) === 1,
    );
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
    return this.run(
      'stat',
      key,
      (redisKey) => STAT.run(this.send, redisKey),
      (reply) => {
        if (reply === null) return null;
        const [stored, header] = reply as [number, Buffer];
        const headed = hasHeader(header);
        return {
          size: headed ? stored - HEADER_BYTES : stored,
          version: headed ? versionIn(header) : undefined,
          expiresAt: headed ? expiryIn(header) : undefined,
        };
      },
    );
  }

  touch(key: string, expiresAt: number, options: TouchOptions = {}): Promise<boolean> {
    return this.run(
      'touch',
      key,
      (redisKey) => {
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
    // A graceful close waits for the replies still due, which a hung Redis never sends:
    // after `timeout`, the connection is dropped instead.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.timeout);
    });
    try {
      if ((await Promise.race([this.client.close(), late])) === 'late') this.client.destroy();
    } catch {
      if (this.client.isOpen) this.client.destroy();
    } finally {
      clearTimeout(timer);
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
  private run<R, T = R>(
    action: string,
    key: string,
    operation: (redisKey: string) => Promise<R>,
    toResult?: (reply: R) => T,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.assertOpen();
      assertValidKey(key);
      const inFlight = this.deadlines.start(new InFlight(action, key, reject));
      const redisKey = this.prefix + key;
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
