import { describe, expect, it } from 'vitest';
import {
  assertValidKey,
  assertValidPrefix,
  ErrorCodes,
  isValidKey,
  KEY_ALPHABET,
  KEY_PATTERN,
  MAX_KEY_LENGTH,
} from '../src/index.js';

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

  it('agree with KEY_PATTERN for every UTF-16 code unit, first and later', () => {
    const disagreements: string[] = [];
    for (let code = 0; code <= 0xffff; code += 1) {
      const character = String.fromCharCode(code);
      for (const key of [character, `a${character}`, `a${character}b`]) {
        if (isValidKey(key) !== KEY_PATTERN.test(key)) disagreements.push(JSON.stringify(key));
      }
    }
    expect(disagreements).toEqual([]);
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
