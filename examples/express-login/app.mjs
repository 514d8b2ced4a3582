// The login demo as an Express 5 app: log in with a name, see who you are and how many
// pages you viewed, log out. Sessions are files in `dir`, through the sessionfs
// express-session store. Its pages, the same as examples/login's, come from
// @sessionfs/example-login-kit.
import { endedFromQuery, loginPages, nameFromForm } from '@sessionfs/example-login-kit/pages';
import { FileStore } from '@sessionfs/express-session-file';
import express from 'express';
import session from 'express-session';

const pages = loginPages('sessionfs login demo (Express)');

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
  // Sessions are indexed by user, for "Log out my other sessions".
  const store = new FileStore({ dir, owner: (session) => session.user });
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
      res.send(pages.login());
      return;
    }
    session.visits = (session.visits ?? 0) + 1;
    res.send(
      pages.welcome(
        session.user,
        session.visits,
        store.sessionFile(req.sessionID),
        endedFromQuery(req.query),
      ),
    );
  });

  app.post('/login', (req, res, next) => {
    const name = nameFromForm(req.body);
    if (name === undefined) {
      res.status(400).type('html').send(pages.nameRefused());
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

  // Ends every session of this user but this one: on other devices, in other browsers,
  // whichever server process wrote them.
  app.post('/logout-others', (req, res, next) => {
    const { user } = req.session;
    if (!user) {
      res.redirect(303, '/');
      return;
    }
    store.destroyOwner(user, { except: req.sessionID }, (error, ended) => {
      if (error) return next(error);
      res.redirect(303, `/?ended=${ended}`);
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
        .send(pages.error('Something went wrong. Please try again.'));
    },
  );

  return { app, store };
}

/** @param {unknown} error */
function defaultLogError(error) {
  console.error('sessionfs express login demo:', error);
}
