/**
 * What the store needs to know of a session's shape. Sessions from `@fastify/session`
 * (and express-session) carry a `cookie` with `expires` and `originalMaxAge`; anything
 * else is opaque data for the codec.
 */

type Fields = Record<string, unknown>;

export interface PreparedSession {
  /** What the codec encodes: the session without `cookie.expires`. */
  readonly body: unknown;
  /** When the session expires, in epoch ms. */
  readonly expiresAt: number;
  /** Whether `cookie.expires` was taken out and must be put back on read. */
  readonly cookieExpires: boolean;
  /** How long the session lives from a save: its cookie's `originalMaxAge`, else `ttl`. */
  readonly lifetime: number;
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null;
}

/** The cookie as plain fields (`@fastify/session`'s Cookie class has a `toJSON`). */
function plainCookie(session: unknown): Fields | undefined {
  if (!isObject(session) || !isObject(session.cookie)) return undefined;
  const cookie = session.cookie as Fields & { toJSON?: () => unknown };
  const plain = typeof cookie.toJSON === 'function' ? cookie.toJSON() : cookie;
  return isObject(plain) ? plain : undefined;
}

/**
 * Own enumerable string-keyed fields, less `leaveOut` and `alsoLeaveOut`: symbols hold
 * framework internals, not data. A plain loop over `Object.keys` is several times faster
 * than `Object.fromEntries` or a spread (which copies the symbols too) on
 * @fastify/session's Session.
 */
function ownFields(value: Fields, leaveOut?: string, alsoLeaveOut?: string): Fields {
  const fields: Fields = {};
  for (const key of Object.keys(value)) {
    if (key === leaveOut || key === alsoLeaveOut) continue;
    // Assigning `__proto__` would set the prototype; it is data here.
    if (key === '__proto__') {
      Object.defineProperty(fields, key, {
        value: value[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      fields[key] = value[key];
    }
  }
  return fields;
}

/** The latest time a `Date` holds (year 275760): later expiries are kept as this. */
const LATEST_MS = 8.64e15;

/**
 * An expiry the record header, file times and `Date` can all hold: whole ms from 1970 (an
 * earlier one is simply expired) to {@link LATEST_MS} (an `originalMaxAge` or `ttl` of
 * centuries must not make the record unreadable).
 */
function representable(expiresAt: number): number {
  return Math.min(Math.max(Math.round(expiresAt), 0), LATEST_MS);
}

/**
 * Splits a session into the data to encode and its expiry. The expiry comes from
 * `expiresAt` when given (an import's), else `cookie.expires`, else
 * `cookie.originalMaxAge` from now, else `ttl` from now.
 *
 * `cookie.expires` (and `cookie.originalExpires`, derived from it) are left out of the
 * encoded data: with `rolling: true` they change on every request while nothing else
 * does, and keeping them out lets such a save be a cheap expiry move instead of a
 * rewrite. `cookie.expires` is restored from the stored expiry on read.
 */
export function prepareSession(
  session: unknown,
  now: number,
  ttl: number,
  expiresAt?: number,
): PreparedSession {
  const cookie = plainCookie(session);
  const maxAge = cookie?.originalMaxAge;
  const lifetime =
    typeof maxAge === 'number' && Number.isFinite(maxAge) && maxAge > 0 ? maxAge : ttl;
  if (cookie && isObject(session)) {
    const expires = cookie.expires;
    if (expires !== null && expires !== undefined) {
      const cookieExpiresAt = new Date(expires as string | number | Date).getTime();
      if (Number.isFinite(cookieExpiresAt)) {
        const body = ownFields(session);
        // `originalExpires` (@fastify/session 11) is `expires` as it was when the session
        // was loaded; the cookie recomputes it from `expires` on every load: left out too.
        body.cookie = ownFields(cookie, 'expires', 'originalExpires');
        return {
          body,
          expiresAt: representable(expiresAt ?? cookieExpiresAt),
          cookieExpires: true,
          lifetime,
        };
      }
    }
  }
  return {
    body: session,
    expiresAt: representable(expiresAt ?? now + lifetime),
    cookieExpires: false,
    lifetime,
  };
}

/** Puts `cookie.expires` back into a decoded session, as the ISO string JSON gives. */
export function restoreSession(body: unknown, expiresAt: number, cookieExpires: boolean): unknown {
  if (cookieExpires && isObject(body) && isObject(body.cookie)) {
    body.cookie.expires = isoString(expiresAt);
  }
  return body;
}

export const DAY_MS = 24 * 60 * 60 * 1000;
/** The day of the last time formatted, and its ISO date with the `T`. */
let dayStart = Number.NaN;
let dayPrefix = '';
/** The second of the last time formatted, and its ISO string up to the `.` of the ms. */
let secondStart = Number.NaN;
let secondPrefix = '';

function twoDigits(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/**
 * `new Date(ms).toISOString()` for `ms` from 1970 to {@link LATEST_MS}, without a `Date`
 * for times in the same day as the last one, and only the milliseconds formatted for times
 * in the same second: every read formats one, and `toISOString` costs several times more
 * than the rest of restoring the session.
 */
export function isoString(ms: number): string {
  const time = Math.trunc(ms);
  const millis = time % 1000;
  if (time - millis !== secondStart) {
    if (!(time >= dayStart && time < dayStart + DAY_MS)) {
      dayStart = time - (time % DAY_MS);
      const day = new Date(dayStart).toISOString();
      dayPrefix = day.slice(0, day.indexOf('T') + 1);
    }
    const inDay = time - dayStart;
    secondStart = time - millis;
    secondPrefix = `${dayPrefix}${twoDigits(Math.floor(inDay / 3_600_000))}:${twoDigits(Math.floor(inDay / 60_000) % 60)}:${twoDigits(Math.floor(inDay / 1000) % 60)}.`;
  }
  return `${secondPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}
