// The login demos' browser scenario, in real headless Chromium (Debian's /usr/bin/chromium,
// or CHROMIUM_PATH, driven by playwright-core) against a demo's server.mjs in a child
// process: sessions survive a SIGKILL of the server, logging out removes the session file,
// an expired session logs the user out, and "Log out my other sessions" in one browser logs
// the same user out of another (through one server, and through two over one directory). A demo's test/e2e.test.ts registers it with
// loginScenario(), so that vitest reports its tests under that demo. Loopback only; every
// wait is bounded.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const STARTUP_MS = 15_000;
const EXIT_MS = 10_000;

const started = Date.now();
/**
 * One line of the test's narrative, with the time since the file started.
 *
 * @param {string} text
 */
function step(text) {
  console.log(`[e2e +${String(Date.now() - started).padStart(5)} ms] ${text}`);
}

/** The server processes started and not yet seen to exit: killed after the tests. */
const running = new Set(/** @type {import('node:child_process').ChildProcess[]} */ ([]));

/** A demo server as `pnpm start` runs it, in a child process. */
class DemoServer {
  /**
   * @param {import('node:child_process').ChildProcess} child
   * @param {string} url
   */
  constructor(child, url) {
    this.process = child;
    this.url = url;
  }

  /**
   * Starts `node <script>` and resolves once it printed the URL it listens on.
   *
   * @param {string} script
   * @param {Record<string, string>} env
   */
  static async start(script, env) {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let output = '';
    const url = await new Promise(
      /** @param {(url: string) => void} resolve @param {(error: Error) => void} reject */
      (resolve, reject) => {
        const timer = setTimeout(
          () => settle(new Error(`no URL within ${STARTUP_MS} ms:\n${output}`)),
          STARTUP_MS,
        );
        /** @param {Error | null} error @param {string} [found] */
        const settle = (error, found) => {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          child.off('exit', onExit);
          if (error) reject(error);
          else resolve(/** @type {string} */ (found));
        };
        /** @param {Buffer} chunk */
        const onData = (chunk) => {
          output += chunk;
          const found = /http:\/\/127\.0\.0\.1:\d+/.exec(output)?.[0];
          if (found) settle(null, found);
        };
        /** @param {number | null} code */
        const onExit = (code) =>
          settle(new Error(`the server exited (${code}) before listening:\n${output}`));
        child.stdout?.on('data', onData);
        child.stderr?.on('data', (/** @type {Buffer} */ chunk) => process.stderr.write(chunk));
        child.once('exit', onExit);
      },
    );
    step(`server pid ${child.pid} says: ${output.trim().split('\n')[0]}`);
    return new DemoServer(child, url);
  }

  /**
   * Sends `signal`; resolves how the process ended: its exit code, or the signal it died of.
   *
   * @param {NodeJS.Signals} signal
   * @returns {Promise<number | NodeJS.Signals | null>}
   */
  async kill(signal) {
    const exited = /** @type {Promise<[number | null, NodeJS.Signals | null]>} */ (
      once(this.process, 'exit')
    );
    this.process.kill(signal);
    const [code, diedOf] = await Promise.race([
      exited,
      sleep(EXIT_MS).then(() =>
        Promise.reject(new Error(`still running ${EXIT_MS} ms after ${signal}`)),
      ),
    ]);
    running.delete(this.process);
    return code ?? diedOf;
  }
}

/**
 * The session files in `dir` (none when the directory does not exist yet); dot-names are
 * the store's own bookkeeping (temp files, the lock its reaper takes for a moment).
 *
 * @param {string} dir
 */
async function sessionFiles(dir) {
  return (await readdir(dir).catch(() => [])).filter((name) => !name.startsWith('.')).sort();
}

/**
 * Chromium with a fresh profile of its own in `profileDir`: a browser on another device,
 * as far as cookies go.
 *
 * @param {string} profileDir
 */
async function launchBrowser(profileDir) {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

/**
 * The text of the element `selector` names on `page`, trimmed.
 *
 * @param {import('playwright-core').Page} page
 * @param {string} selector
 */
async function textOn(page, selector) {
  return ((await page.locator(selector).textContent()) ?? '').trim();
}

/**
 * Logs `page` in as `name` through the demo's form.
 *
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
async function logInOn(page, name) {
  await page.getByLabel('Your name').fill(name);
  await Promise.all([page.waitForURL(/\/$/), page.getByRole('button', { name: 'Log in' }).click()]);
}

/**
 * The value and expiry of the cookie `name` among a response's `Set-Cookie` headers.
 *
 * @param {string[]} headers
 * @param {string} name
 */
function setCookieNamed(headers, name) {
  const header = headers.find((line) => line.startsWith(`${name}=`));
  expect(header, `a Set-Cookie for ${name}`).toBeDefined();
  const [pair = '', ...attributes] = String(header).split(';');
  const expires = attributes
    .map((attribute) => attribute.trim())
    .find((attribute) => attribute.toLowerCase().startsWith('expires='));
  return {
    value: pair.slice(name.length + 1),
    expiresMs: expires === undefined ? Number.NaN : Date.parse(expires.slice('expires='.length)),
  };
}

/**
 * @typedef {object} LoginScenarioOptions
 * @property {string | URL} server The demo's server script, which takes the settings of
 *   `@sessionfs/example-login-kit/config` and prints its `http://127.0.0.1:<port>` URL.
 * @property {string} cookieName The name of the demo's session cookie.
 */

/**
 * Registers the scenario's tests (in a `describe` block, with the hooks that start
 * Chromium with a fresh profile and clean up) in the calling test file.
 *
 * @param {LoginScenarioOptions} options
 */
export function loginScenario({ server: script, cookieName }) {
  const serverScript = script instanceof URL ? fileURLToPath(script) : script;
  /** @type {string} */
  let root;
  /** @type {import('playwright-core').BrowserContext} */
  let context;
  /** @type {import('playwright-core').Page} */
  let page;

  /**
   * The text of the element `selector` names on the page, trimmed.
   *
   * @param {string} selector
   */
  const text = (selector) => textOn(page, selector);

  /** @param {string} name */
  const logIn = (name) => logInOn(page, name);

  const sessionCookie = async () =>
    (await context.cookies()).find(({ name }) => name === cookieName);

  describe('the login demo in headless Chromium', () => {
    beforeAll(async () => {
      if (!existsSync(CHROMIUM)) {
        throw new Error(
          `${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`,
        );
      }
      root = await mkdtemp(join(tmpdir(), 'sessionfs-e2e-'));
      ({ context, page } = await launchBrowser(join(root, 'profile')));
      step(
        `chromium ${context.browser()?.version() ?? ''} started with a fresh profile in ${root}/profile`,
      );
    });

    afterAll(async () => {
      for (const child of running) child.kill('SIGKILL');
      await context?.close();
      if (root) await rm(root, { recursive: true, force: true });
    });

    it('keeps the user logged in across a SIGKILL of the server, and logging out removes the session file', async () => {
      const dir = join(root, 'sessions-restart');
      let server = await DemoServer.start(serverScript, { PORT: '0', SESSIONS_DIR: dir });

      await page.goto(server.url);
      expect(await text('#status')).toBe('You are not logged in.');
      expect(await sessionFiles(dir)).toEqual([]);
      step('anonymous visit: login form shown, no session file written');

      await logIn('Ada Lovelace');
      expect(await text('#user')).toBe('Ada Lovelace');
      expect(await text('#visits')).toBe('1');
      const [file, ...others] = await sessionFiles(dir);
      expect(others).toEqual([]);
      expect(await sessionCookie()).toMatchObject({
        httpOnly: true,
        sameSite: 'Lax',
        secure: false,
      });
      step(
        `logged in as Ada Lovelace, visits 1, session file ${file}, cookie httpOnly and SameSite=Lax`,
      );

      await page.reload();
      expect(await text('#visits')).toBe('2');
      step('reloaded: visits 2');

      const diedOf = await server.kill('SIGKILL');
      expect(diedOf).toBe('SIGKILL');
      await expect(page.reload()).rejects.toThrow(/ERR_CONNECTION_REFUSED/);
      step(`server killed with ${diedOf}; reloading now fails with ERR_CONNECTION_REFUSED`);

      // On a new port: cookies are not scoped by port, and the old one may be taken by now.
      server = await DemoServer.start(serverScript, { PORT: '0', SESSIONS_DIR: dir });
      await page.goto(server.url);
      expect(await text('#user')).toBe('Ada Lovelace');
      expect(await text('#visits')).toBe('3');
      expect(await sessionFiles(dir)).toEqual([file]);
      step(
        `server restarted over the same directory: still Ada Lovelace, visits 3, same file ${file}`,
      );

      await Promise.all([
        page.waitForURL(/\/$/),
        page.getByRole('button', { name: 'Log out', exact: true }).click(),
      ]);
      expect(await text('#status')).toBe('You are not logged in.');
      expect(await sessionFiles(dir)).toEqual([]);
      expect(await sessionCookie()).toBeUndefined();
      step('logged out: login form shown, session file gone, cookie cleared');

      expect(await server.kill('SIGTERM')).toBe(0);
    }, 60_000);

    it('logs the user out once a 2 s maxAge has passed, and does not serve the expired session', async () => {
      const dir = join(root, 'sessions-expiry');
      const server = await DemoServer.start(serverScript, {
        PORT: '0',
        SESSIONS_DIR: dir,
        SESSION_MAX_AGE_MS: '2000',
      });

      await page.goto(server.url);
      const loggingInAt = Date.now();
      // The cookie is read from the login's response: by the time the browser's cookie jar
      // is asked, a loaded machine may have let a 2 s cookie expire and the jar dropped it.
      const [loginResponse] = await Promise.all([
        page.waitForResponse((response) => response.request().method() === 'POST'),
        logIn('Grace Hopper'),
      ]);
      expect(await text('#user')).toBe('Grace Hopper');
      const [file] = await sessionFiles(dir);
      const cookie = setCookieNamed(await loginResponse.headerValues('set-cookie'), cookieName);
      // Expires 2 s after the login's response, whole seconds on the wire; measured from the
      // login, not from now, which a loaded machine may put past it already.
      expect(cookie.expiresMs).toBeGreaterThanOrEqual(loggingInAt + 2_000 - 1_000);
      expect(cookie.expiresMs).toBeLessThanOrEqual(Date.now() + 2_000 + 1_000);
      step(`logged in as Grace Hopper with maxAge 2000 ms, session file ${file}`);

      await sleep(2_500);
      await page.reload();
      expect(await text('#status')).toBe('You are not logged in.');
      step('2.5 s later, reload: logged out (the browser dropped the expired cookie)');

      // Replay the expired session's cookie as if the browser had kept it: the server must
      // refuse the session by itself, and remove its file (unless the reaper, which first
      // runs a few seconds after start, already did).
      expect([[file], []]).toContainEqual(await sessionFiles(dir));
      await context.addCookies([
        {
          name: cookieName,
          value: cookie.value,
          url: server.url,
          httpOnly: true,
          sameSite: 'Lax',
          expires: Date.now() / 1000 + 3_600,
        },
      ]);
      await page.reload();
      expect(await text('#status')).toBe('You are not logged in.');
      expect(await sessionFiles(dir)).toEqual([]);
      step(
        'expired cookie sent again anyway: still logged out, and the expired session file is gone',
      );

      expect(await server.kill('SIGTERM')).toBe(0);
    }, 60_000);

    for (const servers of [1, 2]) {
      const where = servers === 1 ? 'one server' : 'two server processes over one directory';
      it(`logs the other browser out from the first with "Log out my other sessions" (${where})`, async () => {
        const dir = join(root, `sessions-everywhere-${servers}`);
        const first = await DemoServer.start(serverScript, { PORT: '0', SESSIONS_DIR: dir });
        const second =
          servers === 1
            ? first
            : await DemoServer.start(serverScript, { PORT: '0', SESSIONS_DIR: dir });
        const phone = await launchBrowser(join(root, `profile-phone-${servers}`));
        try {
          await page.goto(first.url);
          await logIn('Ada Lovelace');
          await phone.page.goto(second.url);
          await logInOn(phone.page, 'Ada Lovelace');
          expect(await textOn(phone.page, '#user')).toBe('Ada Lovelace');
          expect(await sessionFiles(dir)).toHaveLength(2);
          step(`Ada logged in from two browsers, through ${where}: two session files`);

          await Promise.all([
            page.waitForURL(/\/\?ended=1$/),
            page.getByRole('button', { name: 'Log out my other sessions' }).click(),
          ]);
          expect(await text('#ended')).toBe('Logged out of 1 other session.');
          expect(await text('#user')).toBe('Ada Lovelace');
          expect(await sessionFiles(dir)).toHaveLength(1);
          step('first browser: "Log out my other sessions" ended 1, still logged in');

          await phone.page.reload();
          expect(await textOn(phone.page, '#status')).toBe('You are not logged in.');
          await page.goto(first.url);
          expect(await text('#user')).toBe('Ada Lovelace');
          step('other browser: logged out on its next request; the first stays logged in');

          await Promise.all([
            page.waitForURL(/\/$/),
            page.getByRole('button', { name: 'Log out', exact: true }).click(),
          ]);
        } finally {
          await phone.context.close();
        }
        expect(await first.kill('SIGTERM')).toBe(0);
        if (second !== first) expect(await second.kill('SIGTERM')).toBe(0);
      }, 60_000);
    }
  });
}
