import fastifyCookie, { type FastifyCookieOptions } from '@fastify/cookie';
import fastifySession, { type FastifySessionOptions } from '@fastify/session';
import type { DestroyOwnerOptions } from '@sessionfs/core';
import type { FileSessionStoreOptions } from '@sessionfs/session-binding';
import type { FastifyPluginAsync, Session } from 'fastify';
import fp from 'fastify-plugin';
import { FileSessionStore } from './file-session-store.js';

/** The session directory when the options name none, as with `session-file-store`. */
export const DEFAULT_SESSIONS_DIR = './sessions';

/**
 * Options of {@link fastifySessionFile}: those of `@fastify/session` (`secret`, `cookie`,
 * `cookieName`, `rolling`, `saveUninitialized`, …), with `store` describing where the
 * sessions go, and `cookieParser` for `@fastify/cookie`. Unlike `@fastify/session`'s,
 * the plugin's `saveUninitialized` defaults to `false`: a session is stored once the app
 * puts something in it.
 */
export interface FastifySessionFileOptions extends Omit<FastifySessionOptions, 'store'> {
  /**
   * Where the sessions go: the options of a {@link FileSessionStore} (`dir` or
   * `adapter`, `ttl`, `cache`, `reapInterval`, …), which the plugin creates, logs
   * through `fastify.log` and closes on `onClose`; or a `FileSessionStore` you created,
   * which you close yourself. Default: `{ dir: './sessions' }`.
   */
  store?: FileSessionStoreOptions | FileSessionStore;
  /**
   * Options of `@fastify/cookie`, which the plugin registers unless the app already did
   * (then these are ignored and the app's registration is used).
   */
  cookieParser?: FastifyCookieOptions;
}

/** The sessions of one owner, across every device: what `fastify.sessions` offers. */
export interface OwnerSessions {
  /** The live sessions of `owner`, with their ids, streamed. */
  sessionsOf(owner: string | number): AsyncIterable<[string, Session]>;
  /**
   * Ends every session of `owner` but `options.except` and resolves how many it ended:
   * `fastify.sessions.destroyOwner(userId, { except: request.session.sessionId })`.
   */
  destroyOwner(owner: string | number, options?: DestroyOwnerOptions): Promise<number>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The session store that `@sessionfs/fastify-session-file` registered. */
    fileSessionStore: FileSessionStore;
    /**
     * The sessions of one owner ("log out everywhere"), with the store's `owner` option:
     * `sessionsOf(owner)` and `destroyOwner(owner, { except })`.
     */
    sessions: OwnerSessions;
  }
}

const PLUGIN_NAME = '@sessionfs/fastify-session-file';

const plugin: FastifyPluginAsync<FastifySessionFileOptions> = async (fastify, options) => {
  const { store: storeOption = { dir: DEFAULT_SESSIONS_DIR }, cookieParser, ...session } = options;
  const owned = !isFileSessionStore(storeOption);
  const store = owned
    ? new FileSessionStore({ logger: fastify.log.child({ plugin: PLUGIN_NAME }), ...storeOption })
    : storeOption;
  fastify.decorate('fileSessionStore', store);
  fastify.decorate('sessions', {
    sessionsOf: (owner) => store.engine.sessionsOf(owner),
    destroyOwner: (owner, ownerOptions) => store.engine.destroyOwner(owner, ownerOptions),
  } satisfies OwnerSessions);
  try {
    if (!fastify.hasPlugin('@fastify/cookie')) {
      await fastify.register(fastifyCookie, cookieParser ?? {});
    }
    // An empty session is not stored unless the app asks: a request without a cookie
    // (a health check, a crawler, a flood) then costs no file.
    await fastify.register(fastifySession, {
      ...session,
      saveUninitialized: session.saveUninitialized ?? false,
      store,
    });
  } catch (error) {
    if (owned) await store.close();
    throw error;
  }
  if (owned) fastify.addHook('onClose', () => store.close());
};

/**
 * Registers `@fastify/cookie` (unless the app already did) and `@fastify/session` with a
 * {@link FileSessionStore}, from one options object. The store reports through
 * `fastify.log` and is closed (its reaper stopped) when Fastify closes.
 *
 * ```ts
 * await app.register(fastifySessionFile, {
 *   secret: process.env.SESSION_SECRET, // 32 characters or more
 *   cookie: { maxAge: 86_400_000, secure: 'auto' },
 *   store: { dir: './sessions' },
 * });
 * ```
 */
export const fastifySessionFile = fp(plugin, { fastify: '5.x', name: PLUGIN_NAME });

/**
 * A store the caller created, told apart from options by its methods rather than with
 * `instanceof`, which fails between the CommonJS and ESM copies of this package.
 */
function isFileSessionStore(
  value: FileSessionStoreOptions | FileSessionStore,
): value is FileSessionStore {
  return typeof (value as Partial<FileSessionStore>).sessionFile === 'function';
}
