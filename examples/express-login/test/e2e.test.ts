// The Express login demo in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): sessions survive a SIGKILL of the server, logging out removes the
// session file, and an expired session logs the user out. Loopback only; every wait is
// bounded.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { COOKIE_NAME } from '../app.mjs';

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
const SERVER = fileURLToPath(new URL('../server.mjs', import.meta.url));
const STARTUP_MS = 15_000;
const EXIT_MS = 5_000;

const started = Date.now();
/** One line of the test's narrative, with the time since the file started. */
function step(text: string): void {
  console.log(`[e2e +${String(Date.now() - started).padStart(5)} ms] ${text}`);
}

/** The demo server as `pnpm start` runs it, in a child process. */
class DemoServer {
  private constructor(
    readonly process: ChildProcess,
    readonly url: string,
  ) {}

  /** Starts `node server.mjs` and resolves once it printed the URL it listens on. */
  static async start(env: Record<string, string>): Promise<DemoServer> {
    const child = spawn(process.execPath, [SERVER], {
      env: { ...process.env, HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no URL within ${STARTUP_MS} ms`)),
        STARTUP_MS,
      );
      const settle = (error: Error | null, found?: string) => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve(found as string);
      };
      const onData = (chunk: Buffer) => {
        output += chunk;
        const found = /http:\/\/127\.0\.0\.1:\d+/.exec(output)?.[0];
        if (found) settle(null, found);
      };
      const onExit = (code: number | null) =>
        settle(new Error(`the server exited (${code}) before listening:\n${output}`));
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
      child.once('exit', onExit);
    });
    step(`server pid ${child.pid} says: ${output.trim().split('\n')[0]}`);
    return new DemoServer(child, url);
  }

  get port(): string {
    return new URL(this.url).port;
  }

  /** Sends `signal`; resolves how the process ended: its exit code, or the signal it died of. */
  async kill(signal: NodeJS.Signals): Promise<number | NodeJS.Signals | null> {
    const exited = once(this.process, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
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

const running = new Set<ChildProcess>();
let root: string;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  root = await mkdtemp(join(tmpdir(), 'sessionfs-express-e2e-'));
  context = await chromium.launchPersistentContext(join(root, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
  context.setDefaultTimeout(10_000);
  page = context.pages()[0] ?? (await context.newPage());
  step(
    `chromium ${context.browser()?.version() ?? ''} started with a fresh profile in ${root}/profile`,
  );
});

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await context?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/**
 * The session files in `dir` (none when the directory does not exist yet); dot-names are
 * the store's own bookkeeping (temp files, the lock its reaper takes for a moment).
 */
async function sessionFiles(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).filter((name) => !name.startsWith('.')).sort();
}

/** The text of the element `selector` names on the page, trimmed. */
async function text(selector: string): Promise<string> {
  return ((await page.locator(selector).textContent()) ?? '').trim();
}

async function logIn(name: string): Promise<void> {
  await page.getByLabel('Your name').fill(name);
  await Promise.all([page.waitForURL(/\/$/), page.getByRole('button', { name: 'Log in' }).click()]);
}

it('keeps the user logged in across a SIGKILL of the server, and logging out removes the session file', async () => {
  const dir = join(root, 'sessions-restart');
  let server = await DemoServer.start({ PORT: '0', SESSIONS_DIR: dir });

  await page.goto(server.url);
  expect(await text('#status')).toBe('You are not logged in.');
  expect(await sessionFiles(dir)).toEqual([]);
  step('anonymous visit: login form shown, no session file written');

  await logIn('Ada Lovelace');
  expect(await text('#user')).toBe('Ada Lovelace');
  expect(await text('#visits')).toBe('1');
  const [file, ...others] = await sessionFiles(dir);
  expect(others).toEqual([]);
  expect((await context.cookies()).find(({ name }) => name === COOKIE_NAME)).toMatchObject({
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

  server = await DemoServer.start({ PORT: server.port, SESSIONS_DIR: dir });
  await page.goto(server.url);
  expect(await text('#user')).toBe('Ada Lovelace');
  expect(await text('#visits')).toBe('3');
  expect(await sessionFiles(dir)).toEqual([file]);
  step(`server restarted over the same directory: still Ada Lovelace, visits 3, same file ${file}`);

  await Promise.all([
    page.waitForURL(/\/$/),
    page.getByRole('button', { name: 'Log out' }).click(),
  ]);
  expect(await text('#status')).toBe('You are not logged in.');
  expect(await sessionFiles(dir)).toEqual([]);
  expect((await context.cookies()).map((cookie) => cookie.name)).not.toContain(COOKIE_NAME);
  step('logged out: login form shown, session file gone, cookie cleared');

  expect(await server.kill('SIGTERM')).toBe(0);
}, 60_000);

it('logs the user out once a 2 s maxAge has passed, and does not serve the expired session', async () => {
  const dir = join(root, 'sessions-expiry');
  const server = await DemoServer.start({
    PORT: '0',
    SESSIONS_DIR: dir,
    SESSION_MAX_AGE_MS: '2000',
  });

  await page.goto(server.url);
  await logIn('Grace Hopper');
  expect(await text('#user')).toBe('Grace Hopper');
  const [file] = await sessionFiles(dir);
  const cookie = (await context.cookies()).find(({ name }) => name === COOKIE_NAME);
  expect(cookie?.expires).toBeGreaterThan(Date.now() / 1000);
  step(`logged in as Grace Hopper with maxAge 2000 ms, session file ${file}`);

  await sleep(2_500);
  await page.reload();
  expect(await text('#status')).toBe('You are not logged in.');
  step('2.5 s later, reload: logged out (the browser dropped the expired cookie)');

  // Replay the expired session's cookie as if the browser had kept it: the server must
  // refuse the session by itself, and remove its file (unless the reaper, which first runs
  // a few seconds after start, already did).
  expect([[file], []]).toContainEqual(await sessionFiles(dir));
  await context.addCookies([
    { ...(cookie as NonNullable<typeof cookie>), expires: Date.now() / 1000 + 3_600 },
  ]);
  await page.reload();
  expect(await text('#status')).toBe('You are not logged in.');
  expect(await sessionFiles(dir)).toEqual([]);
  step('expired cookie sent again anyway: still logged out, and the expired session file is gone');

  expect(await server.kill('SIGTERM')).toBe(0);
}, 60_000);
