import { describe, expect, it } from 'vitest';
import {
  assertValidKey,
  assertValidPrefix,
  ErrorCodes,
  isValidKey,
  KEY_ALPHABET,
  MAX_KEY_LENGTH,
} from '../src/adapter-api.js';

describe('adapter keys', () => {
  it('accept the alphabet, lowercase only, never a leading dot', () => {
    expect(isValidKey('abc')).toBe(true);
    expect(isValidKey(`a${KEY_ALPHABET}`)).toBe(true);
    expect(isValidKey('a'.repeat(MAX_KEY_LENGTH))).toBe(true);
    for (const bad of ['', '.a', '_a', '-a', 'A', 'a/b', 'a\\b', '..', 'a\0', 'é', ' a', 'a b']) {
      expect(isValidKey(bad), JSON.stringify(bad)).toBe(false);
    }
    expect(isValidKey('a'.repeat(MAX_KEY_LENGTH + 1))).toBe(false);
    expect(isValidKey(42)).toBe(false);
  });

  it('throw ERR_INVALID_KEY for a bad key or prefix', () => {
    expect(() => assertValidKey('../etc/passwd')).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_KEY }),
    );
    expect(() => assertValidPrefix('a/')).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_KEY }),
    );
    expect(() => assertValidPrefix('')).not.toThrow();
    expect(() => assertValidPrefix('s.')).not.toThrow();
  });
});
