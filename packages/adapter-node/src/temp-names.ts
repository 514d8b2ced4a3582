import { randomBytes } from 'node:crypto';

/**
 * This process's random token, drawn once: it makes temp file names unique across
 * processes (with a counter within one) and names the owner of a lock. (Drawing random
 * bytes per write showed up in profiles.)
 */
export const PROCESS_TOKEN = randomBytes(4).toString('hex');

const TEMP_SUFFIX = '.tmp';
/** The name of a temp file: a dot, the key, 16 random hex digits, `.tmp`. */
export const TEMP_NAME = /^\.[a-z0-9][a-z0-9._-]*\.[0-9a-f]{16}\.tmp$/;
let tempCounter = 0;

/**
 * The temp file of a write of `key`: dot-prefixed, so it never matches a key (keys cannot
 * start with a dot) and listings skip it, and unique.
 */
export function tempNameFor(key: string): string {
  tempCounter = (tempCounter + 1) >>> 0;
  return `.${key}.${PROCESS_TOKEN}${tempCounter.toString(16).padStart(8, '0')}${TEMP_SUFFIX}`;
}

/**
 * Where a take puts the file of `key` while it checks it (see `takeIf`): one name per
 * key, so that a reader that misses the key knows where else to look.
 */
export function heldNameFor(key: string): string {
  return `.${key}.held`;
}

/** The name of a held file, with its key. */
export const HELD_NAME = /^\.([a-z0-9][a-z0-9._-]*)\.held$/;
