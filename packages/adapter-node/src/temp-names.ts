import { PROCESS_TOKEN_HEX } from '@sessionfs/core/adapter';

const TEMP_SUFFIX = '.tmp';
/**
 * The name of a temp file: a dot, the key, the process token (16 hex digits) and a
 * counter (8), `.tmp`. With a key of `MAX_KEY_LENGTH` (220) it is 250 bytes long, under
 * the 255-byte limit of common filesystems.
 */
export const TEMP_NAME = /^\.[a-z0-9][a-z0-9._-]*\.[0-9a-f]{24}\.tmp$/;
let tempCounter = 0;

/**
 * The temp file of a write of `key`: dot-prefixed, so it never matches a key (keys cannot
 * start with a dot) and listings skip it, and unique: the process token tells processes
 * apart, the counter the writes of one process, with no random bytes drawn per write.
 */
export function tempNameFor(key: string): string {
  tempCounter = (tempCounter + 1) >>> 0;
  return `.${key}.${PROCESS_TOKEN_HEX}${tempCounter.toString(16).padStart(8, '0')}${TEMP_SUFFIX}`;
}

/**
 * Where a take puts the file of `key` while it checks it (see `takeSteps`): one name per
 * key, so that a reader that misses the key knows where else to look.
 */
export function heldNameFor(key: string): string {
  return `.${key}.held`;
}

/** The name of a held file, with its key. */
export const HELD_NAME = /^\.([a-z0-9][a-z0-9._-]*)\.held$/;
