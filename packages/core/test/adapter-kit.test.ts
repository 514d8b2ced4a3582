import { describe, expect, it } from 'vitest';
import {
  adapterError,
  closedError,
  ErrorCodes,
  PROCESS_TOKEN,
  PROCESS_TOKEN_HEX,
  redactKey,
  SessionStoreError,
  tooLargeError,
} from '../src/adapter-api.js';
import { sessionKey } from '../src/index.js';

const key = sessionKey('a-secret-session-id-of-32-chars!');

describe('helpers for adapter authors', () => {
  it('wrap a backend error with the chosen code, the key redacted in message and cause', () => {
    const cause = Object.assign(new Error(`ENOSPC: no space left, open '/s/${key}'`), {
      code: 'ENOSPC',
      path: `/s/${key}`,
    });
    const error = adapterError(cause, {
      adapter: '@sessionfs/adapter-test',
      action: 'write',
      code: ErrorCodes.NO_SPACE,
      key,
      subject: `/s/${key}`,
      detail: ' (ENOSPC)',
    });
    expect(SessionStoreError.isInstance(error)).toBe(true);
    expect(error.code).toBe(ErrorCodes.NO_SPACE);
    expect(error.message).toBe(
      `@sessionfs/adapter-test: cannot write /s/${redactKey(key)} (ENOSPC)`,
    );
    const serialised = JSON.stringify({
      ...(error.cause as object),
      message: (error.cause as Error).message,
      stack: (error.cause as Error).stack,
    });
    expect(serialised).not.toContain(key);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
  });

  it('name the key alone when there is no other subject, and pass store errors through', () => {
    const error = adapterError(new Error(`reply about ${key}`), {
      adapter: '@sessionfs/adapter-test',
      action: 'read',
      code: ErrorCodes.UNAVAILABLE,
      key,
      detail: `: reply about ${key}`,
    });
    expect(error.message).toBe(
      `@sessionfs/adapter-test: cannot read ${redactKey(key)}: reply about ${redactKey(key)}`,
    );
    expect(adapterError(error, { adapter: 'x', action: 'y', code: ErrorCodes.IO })).toBe(error);
  });

  it('give the too-large and closed errors their codes, never the key in full', () => {
    const large = tooLargeError('@sessionfs/adapter-test', key, 1_000, 2_000);
    expect(large.code).toBe(ErrorCodes.TOO_LARGE);
    expect(large.message).not.toContain(key);
    expect(large.message).toContain('1000');
    expect(tooLargeError('@sessionfs/adapter-test', key, 1_000).message).not.toContain(key);
    expect(closedError('@sessionfs/adapter-test').code).toBe(ErrorCodes.CLOSED);
  });

  it('draw one process token of 8 bytes, the same in hex', () => {
    expect(PROCESS_TOKEN.byteLength).toBe(8);
    expect(PROCESS_TOKEN_HEX).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(PROCESS_TOKEN).toString('hex')).toBe(PROCESS_TOKEN_HEX);
  });
});
