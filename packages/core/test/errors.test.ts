import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, hasErrorCode, SessionStoreError } from '../src/index.js';

describe('SessionStoreError', () => {
  it('carries a stable code, the cause and a prefixed message', () => {
    const cause = new Error('disk on fire');
    const error = new SessionStoreError(ErrorCodes.IO, 'cannot write', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SessionStoreError');
    expect(error.code).toBe('ERR_IO');
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('@sessionfs: cannot write');
  });

  it('keeps a message that already names its package', () => {
    const error = new SessionStoreError(ErrorCodes.CLOSED, '@sessionfs/adapter-node: closed');
    expect(error.message).toBe('@sessionfs/adapter-node: closed');
  });

  it('is recognised across copies of the package (the CommonJS build next to the ESM one)', () => {
    const require = createRequire(import.meta.url);
    const commonJs = require('../dist/index.cjs') as typeof import('../src/index.js');
    const foreign = new commonJs.SessionStoreError(commonJs.ErrorCodes.NO_SPACE, 'full');
    expect(foreign).not.toBeInstanceOf(SessionStoreError);
    expect(SessionStoreError.isInstance(foreign)).toBe(true);
    expect(hasErrorCode(foreign, ErrorCodes.NO_SPACE)).toBe(true);
    expect(commonJs.SessionStoreError.isInstance(new SessionStoreError(ErrorCodes.IO, 'x'))).toBe(
      true,
    );
  });

  it('tells other values apart', () => {
    expect(SessionStoreError.isInstance(new Error('x'))).toBe(false);
    expect(SessionStoreError.isInstance({ code: 'ERR_IO' })).toBe(false);
    expect(SessionStoreError.isInstance(null)).toBe(false);
    expect(hasErrorCode(new SessionStoreError(ErrorCodes.IO, 'x'), ErrorCodes.CLOSED)).toBe(false);
  });

  it('has unique codes, all of the form ERR_*', () => {
    const codes = Object.values(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^ERR_[A-Z_]+$/);
  });
});
