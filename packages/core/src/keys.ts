import { ErrorCodes, SessionStoreError } from './errors.js';

/**
 * The longest key the store ever hands to an adapter. File adapters add a short temp
 * suffix to it and still stay under the 255-byte file name limit of common filesystems.
 */
export const MAX_KEY_LENGTH = 220;

/**
 * Every key the store produces matches this: lowercase ASCII letters, digits, `.`, `_`
 * and `-`, starting with a letter or digit. Lowercase only, so keys never collide on
 * case-insensitive filesystems; never a leading dot, so adapters may use dot-names for
 * their own temp files and hide them from listings.
 */
export const KEY_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

/** The characters a key may contain, for adapter authors and the conformance suite. */
export const KEY_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789._-';

/** True when `key` is a key the store may produce. */
export function isValidKey(key: unknown): key is string {
  return (
    typeof key === 'string' &&
    key.length > 0 &&
    key.length <= MAX_KEY_LENGTH &&
    KEY_PATTERN.test(key)
  );
}

/**
 * Throws `ERR_INVALID_KEY` unless `key` is a valid key. Adapters call this at their
 * boundary as a second line of defence: the store validates ids before they become keys.
 */
export function assertValidKey(key: unknown): asserts key is string {
  if (!isValidKey(key)) {
    throw new SessionStoreError(
      ErrorCodes.INVALID_KEY,
      `invalid adapter key ${JSON.stringify(String(key).slice(0, 40))}: keys match ${KEY_PATTERN} and are at most ${MAX_KEY_LENGTH} characters`,
    );
  }
}

/** True when `prefix` may begin a key (the empty prefix lists everything). */
export function assertValidPrefix(prefix: unknown): asserts prefix is string {
  if (prefix === '') return;
  if (typeof prefix !== 'string' || prefix.length > MAX_KEY_LENGTH || !KEY_PATTERN.test(prefix)) {
    throw new SessionStoreError(
      ErrorCodes.INVALID_KEY,
      `invalid adapter key prefix ${JSON.stringify(String(prefix).slice(0, 40))}`,
    );
  }
}
