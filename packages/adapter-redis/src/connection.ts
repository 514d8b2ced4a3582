import { ErrorCodes, SessionStoreError } from '@sessionfs/core/adapter';
import { createClient, createCluster, type RedisClientOptions } from 'redis';
import type { RedisClient } from './client.js';
import { ADAPTER } from './errors.js';
import type { RedisAdapterOptions } from './options.js';

/** How long a client the adapter creates waits between reconnection attempts. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 100, 1_000);

/**
 * The client the adapter creates, and then owns, from the options `url` or `nodes` (with
 * `redisOptions`), not yet connected. With `invalidations` (see `invalidationHook`), it
 * speaks RESP3, the protocol that carries Redis's invalidation pushes.
 */
export function createOwnedClient(
  options: RedisAdapterOptions,
  timeout: number,
  invalidations?: object,
): RedisClient {
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
  const tracking = invalidations && { RESP: 3 as const, clientSideCache: invalidations };
  let client: RedisClient;
  if (options.nodes) {
    client = createCluster({
      rootNodes: options.nodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })),
      defaults: clientOptions,
      ...(tracking as object),
    }) as unknown as RedisClient;
  } else if (options.url) {
    client = createClient({
      ...clientOptions,
      ...(tracking as object),
      url: options.url,
    }) as unknown as RedisClient;
  } else {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      `${ADAPTER}: give one of the options \`client\`, \`url\` or \`nodes\``,
    );
  }
  // The client reports connection errors as events; without a listener they would crash
  // the process. The operations themselves report failures as typed errors.
  client.on('error', () => {});
  return client;
}

/**
 * Closes a connected client gracefully, which waits for the replies still due; a hung
 * Redis never sends them, so after `timeout` the connection is dropped instead.
 */
export async function closeWithin(client: RedisClient, timeout: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeout);
  });
  try {
    if ((await Promise.race([client.close(), late])) === 'late') client.destroy();
  } catch {
    if (client.isOpen) client.destroy();
  } finally {
    clearTimeout(timer);
  }
}
