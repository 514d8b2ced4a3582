// The Express login demo over HTTP on 127.0.0.1: name validation, HTML escaping, the
// counter, a new session id at login, logout, a restart over the same directory, and
// errors that end in a page rather than a crash.
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp, COOKIE_NAME } from '../app.mjs';

const SECRET = 'a login test secret of 32 characters or more';

/** A running app: its URL, its store's directory, and how to stop it. */
interface Running {
  url: string;
  dir: string;
  close(): Promise<void>;
}

let root: string;
const running = new Set<Running>();

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sessionfs-express-login-'));
});
afterEach(async () => {
  for (const app of running) await app.close();
  await rm(root, { recursive: true, force: true });
});

/** Builds the app over `dir` and listens on a free loopback port. */
async function start(
  dir = join(root, 'sessions'),
  logError: (error: unknown) => void = () => {},
): Promise<Running> {
  const { app, store } = buildApp({ dir, maxAge: 60_000, secret: SECRET, logError });
  const server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const started: Running = {
    url: `http://127.0.0.1:${port}`,
    dir,
    async close() {
      running.delete(started);
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
      await store.close();
    },
  };
  running.add(started);
  return started;
}

/** The session files in `dir` (none when it does not exist); dot-names are the store's own. */
async function sessionFiles(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).filter((name) => !name.startsWith('.')).sort();
}

/** A browser as far as the session goes: it keeps the session cookie and sends it back. */
class Browser {
  cookie: string | undefined;

  constructor(public url: string) {}

  async request(path: string, form?: Record<string, string>) {
    const headers: Record<string, string> = {};
    if (this.cookie !== undefined) headers.cookie = this.cookie;
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(`${this.url}${path}`, {
      method: form ? 'POST' : 'GET',
      headers,
      body: form ? new URLSearchParams(form).toString() : null,
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    const setCookie = response.headers
      .getSetCookie()
      .find((line) => line.startsWith(`${COOKIE_NAME}=`));
    if (setCookie !== undefined) {
      const pair = setCookie.split(';')[0] as string;
      this.cookie = pair === `${COOKIE_NAME}=` ? undefined : pair;
    }
    return { status: response.status, body: await response.text(), setCookie, response };
  }

  logIn(name: string) {
    return this.request('/login', { name });
  }

  /** The page's counter, or `null` on the login form. */
  async visits(): Promise<number | null> {
    const { body } = await this.request('/');
    const found = /<strong id="visits">(\d+)<\/strong>/.exec(body)?.[1];
    return found === undefined ? null : Number(found);
  }
}

it('refuses an empty or overlong name without creating a session', async () => {
  const app = await start();
  const browser = new Browser(app.url);
  for (const name of ['   ', 'x'.repeat(41)]) {
    const response = await browser.logIn(name);
    expect(response.status).toBe(400);
    expect(response.body).toContain('Enter a name of 1 to 40 characters.');
    expect(response.setCookie).toBeUndefined();
  }
  expect(await readdir(root)).toEqual([]);
});

it('shows the login form to a visitor without writing a session', async () => {
  const app = await start();
  const response = await new Browser(app.url).request('/');
  expect(response.status).toBe(200);
  expect(response.response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(response.body).toContain('You are not logged in.');
  expect(response.setCookie).toBeUndefined();
  expect(await readdir(root)).toEqual([]);
});

it('logs in with a new session id, in an httpOnly SameSite=Lax cookie, and counts page views', async () => {
  const app = await start();
  const browser = new Browser(app.url);
  // An id planted before login (session fixation) must not be the one logged in.
  browser.cookie = `${COOKIE_NAME}=s%3Aplanted.signature`;
  const login = await browser.logIn('Ada Lovelace');
  expect(login.status).toBe(303);
  expect(login.response.headers.get('location')).toBe('/');
  expect(login.setCookie).toMatch(/; HttpOnly/);
  expect(login.setCookie).toMatch(/; SameSite=Lax/);
  const expires = Date.parse(/; Expires=([^;]+)/.exec(login.setCookie ?? '')?.[1] ?? '');
  expect(expires - Date.now()).toBeGreaterThan(50_000);
  expect(expires - Date.now()).toBeLessThanOrEqual(60_000);
  expect(login.setCookie).not.toMatch(/; Secure/);
  expect(browser.cookie).not.toContain('planted');

  const [file, ...others] = await sessionFiles(app.dir);
  expect(others).toEqual([]);
  const home = await browser.request('/');
  expect(home.body).toContain('Logged in as <strong id="user">Ada Lovelace</strong>');
  expect(home.body).toContain('<strong id="visits">1</strong>');
  expect(home.body).toContain(join(app.dir, file as string));
  expect(await browser.visits()).toBe(2);
  expect(await browser.visits()).toBe(3);
});

it('shows the name escaped, never as markup', async () => {
  const app = await start();
  const browser = new Browser(app.url);
  expect((await browser.logIn('<img src=x onerror=alert(1)>')).status).toBe(303);
  const page = await browser.request('/');
  expect(page.body).toContain('&#60;img src=x onerror=alert(1)&#62;');
  expect(page.body).not.toContain('<img');
});

it('removes the session file and clears the cookie on logout', async () => {
  const app = await start();
  const browser = new Browser(app.url);
  await browser.logIn('Ada');
  const cookie = browser.cookie;
  expect(await sessionFiles(app.dir)).toHaveLength(1);

  const logout = await browser.request('/logout', {});
  expect(logout.status).toBe(303);
  expect(logout.setCookie).toMatch(
    new RegExp(`^${COOKIE_NAME}=; Path=/; Expires=Thu, 01 Jan 1970`),
  );
  expect(browser.cookie).toBeUndefined();
  expect(await sessionFiles(app.dir)).toEqual([]);

  // The old cookie, replayed, is no session any more.
  browser.cookie = cookie;
  expect(await browser.visits()).toBeNull();
  expect(await sessionFiles(app.dir)).toEqual([]);
});

it('keeps the session, and its counter, when the app restarts over the same directory', async () => {
  const first = await start();
  const browser = new Browser(first.url);
  await browser.logIn('Grace Hopper');
  expect(await browser.visits()).toBe(1);
  expect(await browser.visits()).toBe(2);
  const files = await sessionFiles(first.dir);
  await first.close();

  const second = await start(first.dir);
  browser.url = second.url;
  expect(await browser.visits()).toBe(3);
  expect(await sessionFiles(second.dir)).toEqual(files);
});

it('answers a malformed or oversized form with a 4xx page, and goes on serving', async () => {
  const errors: unknown[] = [];
  const app = await start(undefined, (error) => errors.push(error));
  const oversized = await fetch(`${app.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `name=${'x'.repeat(10_000)}`,
    signal: AbortSignal.timeout(10_000),
  });
  expect(oversized.status).toBe(413);
  expect(await oversized.text()).toContain('Something went wrong');
  const malformed = await fetch(`${app.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'bogus' },
    body: 'name=Ada',
    signal: AbortSignal.timeout(10_000),
  });
  expect(malformed.status).toBe(415);
  expect(errors).toEqual([]);
  expect((await new Browser(app.url).logIn('Ada')).status).toBe(303);
});

it('answers a store that cannot write with a 500 page, logs it, and goes on serving', async () => {
  const errors: unknown[] = [];
  const app = await start(undefined, (error) => errors.push(error));
  // The session directory is replaced by a file once the app runs: writes fail.
  await rm(app.dir, { recursive: true, force: true });
  await writeFile(app.dir, '');
  const browser = new Browser(app.url);

  const login = await browser.logIn('Ada');
  expect(login.status).toBe(500);
  expect(login.body).toContain('Something went wrong. Please try again.');
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ name: 'SessionStoreError' });

  // The process is still up: a new visitor gets the login form, and once the directory
  // is back, logging in works again.
  const visitor = new Browser(app.url);
  const home = await visitor.request('/');
  expect(home.status).toBe(200);
  expect(home.body).toContain('You are not logged in.');
  await rm(app.dir);
  expect((await visitor.logIn('Ada')).status).toBe(303);
  expect(await visitor.visits()).toBe(1);
  expect(await sessionFiles(app.dir)).toHaveLength(1);
  expect(errors).toHaveLength(1);
});

it('refuses a secret shorter than 32 characters', () => {
  expect(() => buildApp({ dir: join(root, 'sessions'), maxAge: 1_000, secret: 'short' })).toThrow(
    /32 characters/,
  );
});
