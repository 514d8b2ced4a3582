import { RESP_TYPES } from 'redis';

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

/** Arguments of one Redis command, its name first. */
export type CommandArguments = (string | Buffer)[];

/**
 * Sends one command about `redisKey` and resolves its reply, bulk strings as `Buffer`s.
 * Raw commands (`sendCommand`) rather than the client's command methods: those add two
 * async layers, an argument parser and a reply transform to every call, for replies the
 * adapter reads itself.
 */
export type Send = (
  redisKey: string,
  readonly: boolean,
  args: CommandArguments,
) => Promise<unknown>;

/** A client able to list keys by `SCAN`, as one server (or one cluster master) is. */
export interface Scanner {
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

export function isCluster(client: RedisClient): client is ClusterClient {
  return typeof (client as { nodeClient?: unknown }).nodeClient === 'function';
}

/**
 * Bulk strings as `Buffer`s: values are binary-safe. Not frozen: the client spreads these
 * options into every command's, and spreading a frozen object takes V8's slow path.
 */
const BINARY_REPLIES = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } };

/** How a client sends a raw command: a cluster client routes it by its key. */
export function senderOf(client: RedisClient): Send {
  if (isCluster(client)) {
    return (redisKey, readonly, args) =>
      client.sendCommand(redisKey, readonly, args, BINARY_REPLIES);
  }
  const server = client as ServerClient;
  return (_, __, args) => server.sendCommand(args, BINARY_REPLIES);
}
