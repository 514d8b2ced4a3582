import {
  adapterError,
  type ErrorCode,
  ErrorCodes,
  type SessionStoreError,
} from '@sessionfs/core/adapter';

/** The package name every message of this adapter's errors starts with. */
export const ADAPTER = '@sessionfs/adapter-redis';

// Errors that mean "Redis is not reachable right now" rather than "Redis said no".
const UNAVAILABLE =
  /timed out|client is (closed|offline)|Socket closed unexpectedly|Connection timeout|Socket timeout|root nodes are unavailable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTCONN|EHOSTUNREACH|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN/i;

/** The store's code for an error of the client or an error reply of Redis. */
function codeOf(message: string): ErrorCode {
  if (UNAVAILABLE.test(message)) return ErrorCodes.UNAVAILABLE;
  if (/^OOM/.test(message)) return ErrorCodes.NO_SPACE;
  if (/^(NOPERM|NOAUTH|WRONGPASS)/.test(message)) return ErrorCodes.PERMISSION;
  return ErrorCodes.IO;
}

/**
 * The `SessionStoreError` an operation rejects with when `action` on `key` failed; one
 * already of that class (a too-large read, a closed adapter) passes through unchanged.
 */
export function toStoreError(error: unknown, action: string, key: string): SessionStoreError {
  const message = error instanceof Error ? error.message : String(error);
  return adapterError(error, {
    adapter: ADAPTER,
    action,
    code: codeOf(message),
    key,
    detail: `: ${message}`,
  });
}
