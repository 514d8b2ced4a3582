// The login demo as an Express 5 app: log in with a name, see who you are and how many
// pages you viewed, log out. Sessions are files in `dir`, through the sessionfs
// express-session store.
import { FileStore } from '@sessionfs/express-session-file';
import express from 'express';
import session from 'express-session';

/** The session cookie's name (express-session's default, `connect.sid`, names the library). */
export const COOKIE_NAME = 'sessionId';

/**
 * @typedef {object} LoginAppOptions
 * @property {string} dir Where the session files go.
 * @property {number} maxAge Session lifetime in ms; every page view renews it (`rolling`).
 * @property {string} secret Signs the session cookie: 32 characters or more.
 * @property {(error: unknown) => void} [logError] Hears of every error that ends in a 500
 *   page; stderr by default.
 */

/**
 * The app and its store: close the store (`store.close()`) once the server is closed.
 *
 * @param {LoginAppOptions} options
 */
export function buildApp({ dir, maxAge, secret, logError = defaultLogError }) {
  // @fastify/session refuses a shorter secret; the Express demo holds the same line.
  if (secret.length < 32) throw new Error('the session secret must be 32 characters or more');
  const store = new FileStore({ dir });
  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '4kb' }));
  app.use(
    session({
      store,
      secret,
      name: COOKIE_NAME,
      cookie: { httpOnly: true, secure: 'auto', sameSite: 'lax', maxAge },
      // Every page view renews the cookie, as @fastify/session does by default.
      rolling: true,
      // The store implements touch(), so an unchanged session is not rewritten.
      resave: false,
      // Visitors who never log in cost no file.
      saveUninitialized: false,
    }),
  );

  app.get('/', (req, res) => {
    const { session } = req;
    res.type('html');
    if (!session.user) {
      res.send(page(loginForm()));
      return;
    }
    session.visits = (session.visits ?? 0) + 1;
    res.send(page(welcome(session.user, session.visits, store.sessionFile(req.sessionID))));
  });

  app.post('/login', (req, res, next) => {
    const body = /** @type {{ name?: unknown } | undefined} */ (req.body);
    const name = String(body?.name ?? '').trim();
    if (name.length === 0 || name.length > 40) {
      res
        .status(400)
        .type('html')
        .send(page(loginForm('Enter a name of 1 to 40 characters.')));
      return;
    }
    // A new session id at login, so that an id planted before cannot ride along.
    req.session.regenerate((regenerateError) => {
      if (regenerateError) return next(regenerateError);
      req.session.user = name;
      // Saved before the redirect: express-session would otherwise save while the response
      // goes out, and a browser that follows the redirect at once could ask for `/` first.
      req.session.save((saveError) => {
        if (saveError) return next(saveError);
        res.redirect(303, '/');
      });
    });
  });

  app.post('/logout', (req, res, next) => {
    req.session.destroy((error) => {
      if (error) return next(error);
      res.clearCookie(COOKIE_NAME, { path: '/', httpOnly: true, sameSite: 'lax' });
      res.redirect(303, '/');
    });
  });

  // Four parameters: Express tells an error handler by its arity. A client's mistake (a
  // malformed or oversized form) keeps its 4xx status; anything else is logged and is a 500.
  app.use(
    /**
     * @param {unknown} error
     * @param {import('express').Request} _req
     * @param {import('express').Response} res
     * @param {import('express').NextFunction} next
     */
    (error, _req, res, next) => {
      if (res.headersSent) return next(error);
      const status = /** @type {{ status?: unknown }} */ (Object(error)).status;
      const clientError = typeof status === 'number' && status >= 400 && status < 500;
      if (!clientError) logError(error);
      res
        .status(clientError ? status : 500)
        .type('html')
        .send(page('<p class="error" role="alert">Something went wrong. Please try again.</p>'));
    },
  );

  return { app, store };
}

/** @param {unknown} error */
function defaultLogError(error) {
  console.error('sessionfs express login demo:', error);
}

/** @param {string} body */
function page(body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sessionfs login demo (Express)</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; }
  input, button { font: inherit; padding: .3rem .6rem; }
  .error { color: #b00020; }
  small { color: #555; word-break: break-all; }
</style>
</head>
<body>
<h1>sessionfs login demo (Express)</h1>
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
