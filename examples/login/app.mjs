// The login demo as a Fastify app: log in with a name, see who you are and how many
// pages you viewed, log out. Sessions are files in `dir`, through the sessionfs plugin.
// Its pages, the same as examples/express-login's, come from @sessionfs/example-login-kit.
import { endedFromQuery, loginPages, nameFromForm } from '@sessionfs/example-login-kit/pages';
import { fastifySessionFile } from '@sessionfs/fastify-session-file';
import Fastify from 'fastify';

const pages = loginPages('sessionfs login demo');

/**
 * @typedef {object} LoginAppOptions
 * @property {string} dir Where the session files go.
 * @property {number} maxAge Session lifetime in ms; every page view renews it (`rolling`).
 * @property {string} secret Signs the session cookie: 32 characters or more.
 * @property {import('fastify').FastifyServerOptions['logger']} [logger]
 */

/** @param {LoginAppOptions} options */
export async function buildApp({ dir, maxAge, secret, logger = false }) {
  // On shutdown, also drop keep-alive and preconnected browser sockets rather than wait
  // for them to time out.
  const app = Fastify({ logger, forceCloseConnections: true });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  await app.register(fastifySessionFile, {
    secret,
    cookie: { secure: 'auto', sameSite: 'lax', maxAge },
    // Visitors who never log in cost no file.
    saveUninitialized: false,
    // Sessions are indexed by user, for "Log out my other sessions".
    store: { dir, owner: (session) => session.user },
  });

  app.get('/', async (request, reply) => {
    const { session } = request;
    if (session.user) session.visits = (session.visits ?? 0) + 1;
    reply.type('text/html; charset=utf-8');
    if (!session.user) return pages.login();
    return pages.welcome(
      session.user,
      session.visits ?? 1,
      app.fileSessionStore.sessionFile(session.sessionId),
      endedFromQuery(request.query),
    );
  });

  app.post('/login', async (request, reply) => {
    const name = nameFromForm(request.body);
    if (name === undefined) {
      reply.code(400).type('text/html; charset=utf-8');
      return pages.nameRefused();
    }
    // A new session id at login, so that an id planted before cannot ride along.
    await request.session.regenerate();
    request.session.user = name;
    return reply.redirect('/', 303);
  });

  app.post('/logout', async (request, reply) => {
    await request.session.destroy();
    reply.clearCookie('sessionId', { path: '/' });
    return reply.redirect('/', 303);
  });

  // Ends every session of this user but this one: on other devices, in other browsers,
  // whichever server process wrote them.
  app.post('/logout-others', async (request, reply) => {
    const { session } = request;
    if (!session.user) return reply.redirect('/', 303);
    const ended = await app.sessions.destroyOwner(session.user, { except: session.sessionId });
    return reply.redirect(`/?ended=${ended}`, 303);
  });

  return app;
}
