/**
 * The directory format of `@itrocks/fastify-file-session-store` 0.0.x
 * (`esm/fastify-file-session-store.js`) and the expiry `@fastify/session` 11 applies to it
 * (`index.js` `decryptSession`, `lib/cookie.js`):
 *
 * - `set` writes `<directory>/<sessionId>`: no extension, the id unescaped, written in
 *   place (`writeFile`, not atomic), content `JSON.stringify(session)`: the session data
 *   and its `cookie` (`expires` as an ISO date or `null`, `originalMaxAge`, …).
 * - The store keeps no time and never expires anything. `@fastify/session` drops a loaded
 *   session once its stored `cookie.expires` has passed (and renews `expires` on each
 *   save when `maxAge` is set); without `cookie.expires` the session never expires.
 */
import type { ForeignEntry } from './foreign-entries.js';
import {
  type FormatReader,
  isRecord,
  parseJsonObject,
  type SessionFileText,
  unreadable,
} from './format-reader.js';

/** Matches `@sessionfs/core`'s default `ttl` for a session without cookie expiry: a day. */
export const ITROCKS_LIFETIME_WITHOUT_EXPIRY_MS = 24 * 60 * 60 * 1000;

export interface ItrocksOptions {
  readonly lifetimeWithoutExpiryMs: number;
}

export function itrocksReader(options: ItrocksOptions): FormatReader {
  return {
    sessionIdOf(fileName) {
      // Every name is an id, except dot files (`.gitkeep`, `.DS_Store`): @fastify/session's
      // ids are base64url, which never starts with a dot.
      return fileName.startsWith('.') ? undefined : fileName;
    },
    decode(file, id) {
      return decodeItrocksFile(file, id, options.lifetimeWithoutExpiryMs);
    },
  };
}

function decodeItrocksFile(
  file: SessionFileText,
  id: string,
  lifetimeWithoutExpiryMs: number,
): ForeignEntry {
  // `writeFile` truncates before it writes: an empty file is a write cut short, and the
  // store reads it as no session.
  if (file.text === '') return unreadable(file.name, 'empty file');
  const session = parseJsonObject(file.text);
  if (session === undefined) return unreadable(file.name, 'not a JSON object');
  const expires = isRecord(session.cookie) ? session.cookie.expires : undefined;
  // @fastify/session only looks at a truthy `expires`; the file's last write is the last
  // time the session was saved, the nearest thing to sessionfs's "ttl after the last save".
  if (!expires) {
    return { kind: 'session', id, session, expiresAt: file.modifiedAt + lifetimeWithoutExpiryMs };
  }
  const expiresAt =
    typeof expires === 'string' || typeof expires === 'number'
      ? new Date(expires).getTime()
      : Number.NaN;
  // An invalid date never expires in @fastify/session (NaN compares false): not importable.
  if (Number.isNaN(expiresAt)) return unreadable(file.name, 'cookie.expires is not a date');
  return { kind: 'session', id, session, expiresAt };
}
