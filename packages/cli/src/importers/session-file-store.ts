/**
 * The directory format of `session-file-store` 1.x, as its `lib/session-file-helpers.js`
 * writes and expires it:
 *
 * - `set` writes `<path>/<sessionId><fileExtension>` (default `.json`), the id unescaped,
 *   through write-file-atomic, whose temp files (`<name>.<hash>`) do not end with the
 *   extension; `list` and the reaper take every name ending with the extension.
 * - The content is `JSON.stringify(session)` with `__lastAccess` (epoch ms) set at each
 *   `set` and `touch`.
 * - `isExpired`: the lifetime is `cookie.originalMaxAge` when truthy, else `ttl` seconds
 *   (default 3600), and the session expires once `__lastAccess + lifetime` has passed;
 *   `cookie.expires` plays no part.
 * - With the `secret` option the file is instead kruptein's JSON envelope (`hmac`, `ct`,
 *   `iv`, `salt`, `at`, `aad`) around the session, without `__lastAccess` in the clear.
 */
import type { ForeignEntry } from './foreign-entries.js';
import {
  type FormatReader,
  isRecord,
  parseJsonObject,
  type SessionFileText,
  unreadable,
} from './format-reader.js';

/** session-file-store's default `ttl`, in seconds. */
export const SESSION_FILE_STORE_TTL_SECONDS = 3600;
/** session-file-store's default `fileExtension`. */
export const SESSION_FILE_STORE_EXTENSION = '.json';

/**
 * Encrypted files are not imported: decrypting needs the application's secret on the
 * command line, and kruptein derives a key per file with scrypt over a random salt, which
 * makes each file cost a deliberately slow derivation.
 */
const ENCRYPTED = "encrypted with session-file-store's secret: not imported";

export interface SessionFileStoreOptions {
  readonly ttlSeconds: number;
  readonly fileExtension: string;
}

export function sessionFileStoreReader(options: SessionFileStoreOptions): FormatReader {
  const { fileExtension } = options;
  const ttlMs = options.ttlSeconds * 1000;
  return {
    sessionIdOf(fileName) {
      // Dot files (`.gitkeep`, `.DS_Store`) are never sessions: express-session's ids are
      // base64url. An empty id would be the extension alone.
      if (fileName.startsWith('.') || !fileName.endsWith(fileExtension)) return undefined;
      const id = fileName.slice(0, fileName.length - fileExtension.length);
      return id === '' ? undefined : id;
    },
    decode(file, id) {
      return decodeSessionFile(file, id, ttlMs);
    },
  };
}

function decodeSessionFile(file: SessionFileText, id: string, ttlMs: number): ForeignEntry {
  const stored = parseJsonObject(file.text);
  if (stored === undefined) return unreadable(file.name, 'not a JSON object');
  const { __lastAccess: lastAccess, ...session } = stored;
  if (typeof lastAccess !== 'number' || !Number.isFinite(lastAccess)) {
    return unreadable(
      file.name,
      isKrupteinEnvelope(stored) ? ENCRYPTED : 'no __lastAccess time, so no expiry',
    );
  }
  const lifetime = lifetimeOf(stored.cookie, ttlMs);
  if (lifetime === undefined) {
    return unreadable(file.name, 'cookie.originalMaxAge is not a number of milliseconds');
  }
  return { kind: 'session', id, session, expiresAt: lastAccess + lifetime };
}

/**
 * The package's rule: `cookie.originalMaxAge` when truthy, else the store's ttl.
 * `undefined` for a truthy value that is not a finite number, which the package would
 * add to `__lastAccess` as a string or an infinity, never expiring the session.
 */
function lifetimeOf(cookie: unknown, ttlMs: number): number | undefined {
  const originalMaxAge = isRecord(cookie) ? cookie.originalMaxAge : undefined;
  if (!originalMaxAge) return ttlMs;
  return typeof originalMaxAge === 'number' && Number.isFinite(originalMaxAge)
    ? originalMaxAge
    : undefined;
}

/** kruptein's JSON output: `JSON.stringify({ hmac, ct, iv, salt, aad?, at? })`. */
function isKrupteinEnvelope(stored: Record<string, unknown>): boolean {
  return (
    typeof stored.hmac === 'string' &&
    typeof stored.ct === 'string' &&
    stored.iv !== undefined &&
    stored.salt !== undefined
  );
}
