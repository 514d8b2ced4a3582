import type { RedisClientOptions } from 'redis';
import type { RedisClient } from './client.js';

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
  /**
   * Server-assisted client-side caching, for a store with its `cache` on. The adapter
   * remembers what it read and wrote, Redis reports every write to a session by another
   * instance (RESP3 invalidation pushes), and the store's check of a cached session
   * (`stat`) is answered without a command until Redis reports a change. A write on
   * another instance is seen once its report arrives (see the README's staleness window).
   * `true` for the defaults. Only for a client the adapter creates (`url`, `nodes`), which
   * then speaks RESP3. Needs `redis` 5.1 or later. Default off.
   */
  clientSideCache?: boolean | ClientSideCacheOptions;
}

/** Options of the adapter's client-side cache (see `clientSideCache`). */
export interface ClientSideCacheOptions {
  /**
   * Most sessions remembered (a few dozen bytes each); the least recently used go first.
   * Keep it at least the store's `cache.maxEntries`. Default 10,000.
   */
  maxEntries?: number;
  /**
   * How long, in ms, a remembered session is trusted before Redis is asked again. Bounds
   * how stale a session can be served should the connection stop carrying Redis's reports
   * without dropping (a network partition the client has not noticed yet). Default 5,000.
   */
  ttl?: number;
}
