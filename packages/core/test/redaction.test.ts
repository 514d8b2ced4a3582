import { describe, expect, it } from 'vitest';
import { redactError, redactKey } from '../src/adapter-api.js';
import { sessionKey } from '../src/index.js';

describe('redaction', () => {
  const key = sessionKey('a-secret-session-id-of-32-chars!');

  it('shortens a key so it no longer reveals the session id', () => {
    expect(redactKey(key)).toBe(`${key.slice(0, 8)}…(${key.length})`);
    expect(redactKey('short')).toBe('short');
  });

  it('scrubs the key from an error and drops structured fields', () => {
    const original = Object.assign(new Error(`ENOENT: no such file, open '/s/${key}'`), {
      code: 'ENOENT',
      errno: -2,
      syscall: 'open',
      path: `/s/${key}`,
      command: { name: 'get', args: [key] },
    });
    const safe = redactError(original, key);
    const text = JSON.stringify({ ...safe, message: safe.message, stack: safe.stack });
    expect(text).not.toContain(key);
    expect(safe).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'open', name: 'Error' });
    expect(safe).not.toHaveProperty('command');
  });
});
