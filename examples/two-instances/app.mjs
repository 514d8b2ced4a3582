// A small JSON app with a login, a visit counter and a logout. Run it twice, on two
// ports, over the same storage (one directory, or one Redis), and a session started on
// one instance is the session on the other. Every answer says which process served it.
import { fastifySessionFile } from '@sessionfs/fastify-session-file';
import Fastify from 'fastify';

/**
 * @typedef {object} TwoInstancesAppOptions
 * @property {import('@sessionfs/fastify-session-file').FileSessionStoreOptions} store
 *   Where the sessions go: `{ dir }` or `{ adapter }`, the same for every instance.
 * @property {string} secret Signs the session cookie: the same for every instance.
 * @property {import('fastify').FastifyServerOptions['logger']} [logger]
 */

/** @param {TwoInstancesAppOptions} options */
export async function buildApp({ store, secret, logger = false }) {
  // On shutdown, also drop keep-alive sockets rather than wait for them to time out.
  const app = Fastify({ logger, forceCloseConnections: true });
  await app.register(fastifySessionFile, {
    secret,
    cookie: { secure: 'auto', sameSite: 'lax', maxAge: 24 * 60 * 60 * 1000 },
    // Visitors who never log in cost no stored session.
    saveUninitialized: false,
    store,
  });

  /** @param {import('fastify').Session | null} session */
  const answer = (session) => ({
    servedBy: process.pid,
    user: session?.user ?? null,
    visits: session?.visits ?? 0,
  });

  app.get('/', async (request) => answer(request.session));

  app.post('/login', async (request, reply) => {
    const body = /** @type {{ name?: unknown } | undefined} */ (request.body);
    const name = String(body?.name ?? '').trim();
    if (name.length === 0 || name.length > 40) {
      return reply.code(400).send({ error: 'name: 1 to 40 characters' });
    }
    // A new session id at login, so that an id planted before cannot ride along.
    await request.session.regenerate();
    request.session.user = name;
    request.session.visits = 0;
    return answer(request.session);
  });

  app.post('/visit', async (request, reply) => {
    if (!request.session.user) return reply.code(401).send({ error: 'log in first' });
    request.session.visits = (request.session.visits ?? 0) + 1;
    return answer(request.session);
  });

  app.post('/logout', async (request, reply) => {
    await request.session.destroy();
    reply.clearCookie('sessionId', { path: '/' });
    return answer(null);
  });

  return app;
}
