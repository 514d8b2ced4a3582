import type { AddressInfo } from 'node:net';
import express5 from 'express';
import session, { type SessionOptions } from 'express-session';
import express4 from 'express4';
import type { FileStore } from '../src/index.js';

declare module 'express-session' {
  interface SessionData {
    views?: number;
    user?: string;
  }
}

export const SECRET = 'a test secret of at least thirty-two characters';
export const COOKIE_NAME = 'connect.sid';

export const expressVersions = [
  { name: 'Express 4', create: express4 },
  { name: 'Express 5', create: express5 },
] as const;

export type CreateExpress = (typeof expressVersions)[number]['create'];

/** A running app: its base URL and how to stop it. */
export interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * An app with express-session over `store` and the routes the tests drive, listening on
 * 127.0.0.1 on a free port.
 */
export async function startApp(
  createExpress: CreateExpress,
  store: FileStore,
  options: Partial<SessionOptions> = {},
): Promise<RunningApp> {
  const app = createExpress();
  app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false, ...options }));
  // Without a session (a disconnected store), every route answers `{ session: false }`.
  app.use((req, res, next) => {
    if (req.session === undefined) res.json({ session: false });
    else next();
  });
  app.get('/whoami', (req, res) => {
    res.json({ id: req.sessionID, user: req.session.user ?? null, views: req.session.views });
  });
  app.get('/count', (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1;
    res.json({ id: req.sessionID, views: req.session.views });
  });
  app.post('/login/:user', (req, res, next) => {
    const previousId = req.sessionID;
    req.session.regenerate((error) => {
      if (error) return next(error);
      req.session.user = req.params.user;
      res.json({ id: req.sessionID, previousId });
    });
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((error) => {
      if (error) return next(error);
      res.json({ loggedOut: true });
    });
  });
  // "Log out my other sessions" (the store's `owner` option names the user).
  app.post('/logout-others', (req, res, next) => {
    const user = req.session.user;
    if (user === undefined) return res.status(401).json({ error: 'not logged in' });
    store.destroyOwner(user, { except: req.sessionID }, (error, ended) => {
      if (error) return next(error);
      res.json({ ended });
    });
  });
  // express-session hands the missing callback straight to the store.
  app.post('/logout-without-callback', (req, res) => {
    const noCallback = undefined as unknown as (error: unknown) => void;
    req.session.destroy(noCallback);
    res.json({ loggedOut: true });
  });
  // Changes the stored session behind the request's back, then reloads it.
  app.post('/reload/:views', (req, res, next) => {
    const stored = JSON.parse(JSON.stringify(req.session));
    store.set(req.sessionID, { ...stored, views: Number(req.params.views) }, (setError) => {
      if (setError) return next(setError);
      req.session.reload((error) => {
        if (error) return next(error);
        res.json({ views: req.session.views });
      });
    });
  });
  // Four parameters: Express tells an error handler by its arity.
  app.use(
    (
      error: Error,
      _req: unknown,
      res: { status(code: number): { json(body: unknown): void } },
      _next: unknown,
    ) => res.status(500).json({ error: error.message }),
  );
  return listen(app);
}

/** A browser, as far as a session goes: it keeps the session cookie and sends it back. */
export class Client {
  cookie: string | undefined;
  /** The `Set-Cookie` line of the last response that had one for the session. */
  lastSetCookie: string | undefined;

  constructor(public url: string) {}

  async request(
    path: string,
    method: 'GET' | 'POST' = 'GET',
  ): Promise<{ status: number; body: Record<string, unknown>; setCookie: string | undefined }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: this.cookie === undefined ? {} : { cookie: this.cookie },
      signal: AbortSignal.timeout(10_000),
    });
    const setCookie = response.headers
      .getSetCookie()
      .find((line) => line.startsWith(`${COOKIE_NAME}=`));
    if (setCookie !== undefined) {
      this.lastSetCookie = setCookie;
      this.cookie = setCookie.split(';')[0];
    }
    const body = (await response.json()) as Record<string, unknown>;
    return { status: response.status, body, setCookie };
  }
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts `app` on a free loopback port; `close` also ends kept-alive connections. */
export async function listen(app: {
  listen(port: number, host: string): import('node:http').Server;
}): Promise<{ url: string; close(): Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
