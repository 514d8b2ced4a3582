import { createFaultyAdapter, createMemoryAdapter } from '@sessionfs/adapter-memory';
import { ErrorCodes, hasErrorCode, type StoreLogger } from '@sessionfs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionBinding } from '../src/index.js';

type Session = { cookie: { originalMaxAge: number; expires?: Date }; [field: string]: unknown };

const session = (fields: Record<string, unknown> = {}): Session => ({
  cookie: { originalMaxAge: 60_000 },
  ...fields,
});

/** A logger that keeps what it is given. */
function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const logger: StoreLogger = {
    debug: (_, message) => lines.push({ level: 'debug', message }),
    info: (_, message) => lines.push({ level: 'info', message }),
    warn: (_, message) => lines.push({ level: 'warn', message }),
    error: (_, message) => lines.push({ level: 'error', message }),
  };
  return { lines, logger };
}

const bindings: SessionBinding<Session>[] = [];
function open(options: ConstructorParameters<typeof SessionBinding<Session>>[1]) {
  const binding = new SessionBinding<Session>('@sessionfs/test-binding', options);
  bindings.push(binding);
  return binding;
}
afterEach(async () => {
  await Promise.all(bindings.splice(0).map((binding) => binding.close()));
});

describe('the binding shared by the framework packages', () => {
  it('answers a callback once and later, or returns a promise without one', async () => {
    const binding = open({ adapter: createMemoryAdapter(), reapInterval: false });
    let returned: unknown = 'not yet';
    const stored = new Promise<{ error: unknown; afterReturn: boolean }>((resolve) => {
      returned = binding.set('a', session({ views: 1 }), (error) =>
        resolve({ error, afterReturn: returned !== 'not yet' }),
      );
    });
    const { error, afterReturn } = await stored;
    // Called after set() returned (asynchronously), and set() returned nothing.
    expect(afterReturn).toBe(true);
    expect(returned).toBeUndefined();
    expect(error).toBeNull();
    await expect(binding.get('a')).resolves.toMatchObject({ views: 1 });
    const calls: unknown[][] = [];
    await new Promise<void>((resolve) =>
      binding.get('a', (...args) => {
        calls.push(args);
        resolve();
      }),
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]?.[0]).toBeNull();
  });

  it('reads an id no session can have as no session, and destroys it as nothing', async () => {
    const binding = open({ adapter: createMemoryAdapter(), reapInterval: false });
    const impossible = 'x'.repeat(10_000);
    await expect(binding.get(impossible)).resolves.toBeNull();
    await expect(binding.destroy(impossible)).resolves.toBeUndefined();
    const failure = await binding.set(impossible, session({ views: 1 })).catch((error) => error);
    expect(hasErrorCode(failure, ErrorCodes.INVALID_ID)).toBe(true);
  });

  it('logs a callback that throws and a rejection nobody awaits, and never crashes', async () => {
    const { lines, logger } = recordingLogger();
    const adapter = createFaultyAdapter();
    const binding = open({ adapter, logger, reapInterval: false });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await new Promise<void>((resolve) =>
        binding.set('a', session({ views: 1 }), () => {
          resolve();
          throw new Error('a careless callback');
        }),
      );
      adapter.inject({ kind: 'EIO', operations: ['read'] });
      void binding.get('a');
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(lines).toContainEqual({
      level: 'error',
      message: '@sessionfs/test-binding: a session store callback threw',
    });
    expect(lines).toContainEqual({
      level: 'debug',
      message: '@sessionfs/test-binding: store call failed',
    });
  });

  it('drops a new, empty session it cannot store, once logged, and fails any other', async () => {
    const { lines, logger } = recordingLogger();
    const adapter = createFaultyAdapter();
    const binding = open({ adapter, logger, reapInterval: false });
    adapter.inject({ kind: 'ENOSPC', operations: ['write'] });
    await expect(binding.set('new', session())).resolves.toBeUndefined();
    await expect(binding.set('other', session())).resolves.toBeUndefined();
    const failure = await binding.set('filled', session({ user: 'ada' })).catch((error) => error);
    expect(hasErrorCode(failure, ErrorCodes.NO_SPACE)).toBe(true);
    expect(lines.filter(({ level }) => level === 'warn')).toHaveLength(1);
  });

  it('needs exactly one of `dir` and `adapter`, and names the binding when it refuses', () => {
    expect(() => open({} as never)).toThrow(/@sessionfs\/test-binding: pass exactly one/);
    expect(() => open({ dir: '/tmp/x', adapter: createMemoryAdapter() } as never)).toThrow(
      /exactly one/,
    );
    const binding = open({ adapter: createMemoryAdapter(), reapInterval: false });
    expect(binding.dir).toBeDefined();
  });
});
