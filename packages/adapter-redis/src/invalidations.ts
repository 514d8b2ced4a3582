import { ErrorCodes, SessionStoreError } from '@sessionfs/core/adapter';
// A namespace import: `redis` before 5.1 has no client-side caching, and a named import of
// it would fail to load the adapter for every user of those versions.
import * as redis from 'redis';
import { ADAPTER } from './errors.js';

/**
 * Told of every key under the prefix that changed, `null` for "any key": Redis lost track
 * (a flush, its tracking table full), or the connection that carried the reports dropped.
 */
export type InvalidationListener = (redisKey: string | null) => void;

/**
 * The `clientSideCache` option of a client the adapter creates: it has the client turn on
 * Redis's tracking on every connection, as part of the handshake (so also after every
 * reconnection, before any command), and passes Redis's invalidation pushes to `listener`.
 *
 * The tracking is `BCAST PREFIX prefix NOLOOP`: Redis reports every write to a key under
 * the prefix, made by anyone but this connection, whether or not this connection read the
 * key; the adapter knows its own writes. The client's cache of command replies, which this
 * hook replaces, is never used: the adapter sends raw commands, which it does not cache.
 */
export function invalidationHook(prefix: string, listener: InvalidationListener): object {
  // Without a prefix, every key is the adapter's.
  const prefixes = prefix === '' ? [] : ['PREFIX', prefix];
  const Hook = (redis as Partial<typeof redis>).BasicPooledClientSideCache;
  if (typeof Hook !== 'function') {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      `${ADAPTER}: option \`clientSideCache\` needs the \`redis\` client 5.1 or later`,
    );
  }
  // The pooled kind, which a cluster client requires; a client of one server takes it too.
  class SessionInvalidations extends Hook {
    override trackingOn(): string[] {
      return ['CLIENT', 'TRACKING', 'ON', 'BCAST', ...prefixes, 'NOLOOP'];
    }

    override invalidate(redisKey: string | Buffer | null): void {
      listener(redisKey === null ? null : redisKey.toString());
    }

    override clear(): void {
      listener(null);
    }

    override onError(): void {
      listener(null);
    }

    override onClose(): void {
      listener(null);
    }
  }
  return new SessionInvalidations();
}
