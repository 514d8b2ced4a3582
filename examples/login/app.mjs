// The login demo as a Fastify app: log in with a name, see who you are and how many
// pages you viewed, log out. Sessions are files in `dir`, through the sessionfs plugin.
import { fastifySessionFile } from '@sessionfs/fastify-session-file';
import Fastify from 'fastify';

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
    store: { dir },
  });

  app.get('/', async (request, reply) => {
    const { session } = request;
    if (session.user) session.visits = (session.visits ?? 0) + 1;
    reply.type('text/html; charset=utf-8');
    if (!session.user) return page(loginForm());
    return page(
      welcome(
        session.user,
        session.visits ?? 1,
        app.fileSessionStore.sessionFile(session.sessionId),
      ),
    );
  });

  app.post('/login', async (request, reply) => {
    const body = /** @type {{ name?: unknown } | undefined} */ (request.body);
    const name = String(body?.name ?? '').trim();
    if (name.length === 0 || name.length > 40) {
      reply.code(400).type('text/html; charset=utf-8');
      return page(loginForm('Enter a name of 1 to 40 characters.'));
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

  return app;
}

/** @param {string} body */
function page(body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sessionfs login demo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; }
  input, button { font: inherit; padding: .3rem .6rem; }
  .error { color: #b00020; }
  small { color: #555; word-break: break-all; }
</style>
</head>
<body>
<h1>sessionfs login demo</h1>
${body}
</body>
</html>
`;
}

/** @param {string} [error] */
function loginForm(error) {
  return `<form method="post" action="/login">
  <p id="status">You are not logged in.</p>
  ${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
  <label>Your name <input name="name" required maxlength="40" autofocus></label>
  <button type="submit">Log in</button>
</form>`;
}

/**
 * @param {string} user
 * @param {number} visits
 * @param {string} file
 */
function welcome(user, visits, file) {
  return `<p id="status">Logged in as <strong id="user">${escapeHtml(user)}</strong>.</p>
<p>Page views in this session: <strong id="visits">${visits}</strong>. Reload to count up.</p>
<form method="post" action="/logout"><button type="submit">Log out</button></form>
<p><small>Your session is the file ${escapeHtml(file)}.</small></p>`;
}

/** @param {string} text */
function escapeHtml(text) {
  return text.replace(
    /[&<>"']/g,
    (character) => `&#${/** @type {number} */ (character.codePointAt(0))};`,
  );
}
