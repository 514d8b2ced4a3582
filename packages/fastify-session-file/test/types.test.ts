// Type tests of the public API: `pnpm typecheck` (tsc) fails when one breaks; vitest
// only runs the (empty at runtime) assertions. Closures are checked, never called.
import type { SessionStore as FastifySessionStoreContract } from '@fastify/session';
import { createMemoryAdapter } from '@sessionfs/adapter-memory';
import type { SessionStore as Engine } from '@sessionfs/core';
import Fastify, { type Session } from 'fastify';
import { describe, expectTypeOf, it } from 'vitest';
import fastifySessionFileDefault, {
  type FastifySessionFileOptions,
  FileSessionStore,
  type FileSessionStoreOptions,
  FileStore,
  fastifySessionFile,
  type SessionStoreError,
} from '../src/index.js';

declare module 'fastify' {
  interface Session {
    cart?: string[];
  }
}

const app = Fastify();

describe('types', () => {
  it('FileSessionStore and FileStore are @fastify/session stores', () => {
    expectTypeOf<FileSessionStore>().toExtend<FastifySessionStoreContract>();
    expectTypeOf(new FileStore('./sessions')).toEqualTypeOf<FileSessionStore>();
    expectTypeOf<FileStore['sessionFile']>().toEqualTypeOf<(sessionId: string) => string>();
    expectTypeOf<FileSessionStore['engine']>().toEqualTypeOf<Engine<Session>>();
    expectTypeOf<FileSessionStore['dir']>().toEqualTypeOf<string | undefined>();
  });

  it('get hands over the augmented Session, or null, or a SessionStoreError', () => {
    const store = new FileSessionStore({ adapter: createMemoryAdapter(), reapInterval: false });
    expectTypeOf(() =>
      store.get('id', (error, session) => {
        expectTypeOf(error).toEqualTypeOf<SessionStoreError | null>();
        expectTypeOf(session).toEqualTypeOf<Session | null | undefined>();
        expectTypeOf(session?.cart).toEqualTypeOf<string[] | undefined>();
      }),
    ).toBeFunction();
    expectTypeOf(store.engine.get('id')).resolves.toEqualTypeOf<Session | null>();
    expectTypeOf(store.close()).resolves.toBeVoid();
  });

  it('takes a directory or an adapter, with the engine options, never both', () => {
    expectTypeOf({
      dir: './s',
      ttl: 1,
      fsync: true,
      cache: { mode: 'exclusive' as const },
    }).toExtend<FileSessionStoreOptions>();
    expectTypeOf({
      adapter: createMemoryAdapter(),
      reapInterval: false as const,
    }).toExtend<FileSessionStoreOptions>();
    expectTypeOf({
      dir: './s',
      adapter: createMemoryAdapter(),
    }).not.toExtend<FileSessionStoreOptions>();
    expectTypeOf({
      adapter: createMemoryAdapter(),
      fsync: true,
    }).not.toExtend<FileSessionStoreOptions>();
    expectTypeOf({ ttl: 1 }).not.toExtend<FileSessionStoreOptions>();
  });

  it('the plugin takes @fastify/session options plus store and cookieParser', () => {
    expectTypeOf(fastifySessionFileDefault).toEqualTypeOf(fastifySessionFile);
    expectTypeOf(() =>
      app.register(fastifySessionFile, {
        secret: 'a secret with at least thirty-two characters',
        cookie: { secure: 'auto', maxAge: 60_000, sameSite: 'lax' },
        saveUninitialized: false,
        rolling: true,
        store: { dir: './sessions', reapInterval: 60_000 },
        cookieParser: { parseOptions: {} },
      }),
    ).toBeFunction();
    expectTypeOf(() =>
      app.register(fastifySessionFile, { secret: ['new', 'old'], store: new FileStore('./s') }),
    ).toBeFunction();
    // @ts-expect-error: the secret is required, as with @fastify/session
    expectTypeOf(() => app.register(fastifySessionFile, { store: { dir: './s' } })).toBeFunction();
    expectTypeOf<{
      secret: string;
      store: { dir: number };
    }>().not.toExtend<FastifySessionFileOptions>();
  });

  it('decorates Fastify with the store and requests with the augmented session', () => {
    expectTypeOf(app.fileSessionStore).toEqualTypeOf<FileSessionStore>();
    expectTypeOf(() =>
      app.get('/', async (request) => {
        expectTypeOf(request.session.cart).toEqualTypeOf<string[] | undefined>();
        expectTypeOf(request.session.regenerate()).resolves.toBeVoid();
        return request.session.sessionId;
      }),
    ).toBeFunction();
  });
});
