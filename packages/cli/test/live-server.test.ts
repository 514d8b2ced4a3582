// `prune` and `import` against the directory of a running server (the login example, in
// its own process): every session the server writes while they run is still there after,
// with its latest state.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { appStore, HOUR, lines, runCli, saveMany, sessionDir } from './support.js';

const LOGIN_SERVER = fileURLToPath(new URL('../../../examples/login/server.mjs', import.meta.url));
const VISITORS = 12;
/** How long the visitors keep the server writing while the commands run, at most. */
const BUSY_MS = 20_000;

let server: ChildProcess | undefined;
afterEach(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
  server = undefined;
});

/** Starts the login example on a free loopback port over `dir`; resolves its URL. */
async function startLoginServer(dir: string): Promise<string> {
  server = spawn(process.execPath, [LOGIN_SERVER], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SESSIONS_DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for await (const line of createInterface({ input: server.stdout as NodeJS.ReadableStream })) {
    const url = /open (http:\/\/\S+) in your browser/.exec(line)?.[1];
    if (url) return url;
  }
  throw new Error('the login server ended before it listened');
}

/** A browser of one: logs in, then views pages, keeping the session cookie. */
class Visitor {
  private cookie = '';
  views = 0;

  constructor(
    private readonly url: string,
    readonly name: string,
  ) {}

  async logIn(): Promise<void> {
    const response = await this.send('/login', {
      method: 'POST',
      body: new URLSearchParams({ name: this.name }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(303);
  }

  /** One page view: the server counts it and saves the session. */
  async view(): Promise<{ user: string | undefined; visits: number | undefined }> {
    const page = await (await this.send('/')).text();
    this.views += 1;
    const user = /<strong id="user">([^<]*)<\/strong>/.exec(page)?.[1];
    const visits = /<strong id="visits">(\d+)<\/strong>/.exec(page)?.[1];
    return { user, visits: visits === undefined ? undefined : Number(visits) };
  }

  private async send(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(new URL(path, this.url), {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: this.cookie },
    });
    const set = response.headers.get('set-cookie');
    const session = set === null ? undefined : /sessionId=([^;]*)/.exec(set)?.[1];
    if (session !== undefined) this.cookie = `sessionId=${session}`;
    return response;
  }
}

it('loses nothing the login example writes while prune and import run on its directory', async () => {
  const dir = await sessionDir();
  // What the commands find: expired sessions to prune, and an export of others to import.
  const old = appStore(dir);
  await saveMany(1_500, (i) =>
    old.set(`expired-${i}`, { user: `gone-${i}` }, { expiresAt: Date.now() - HOUR }),
  );
  const file = join(dir, '..', 'import.ndjson');
  const expiresAt = new Date(Date.now() + HOUR).toISOString();
  const rows = Array.from({ length: 1_500 }, (_, i) =>
    JSON.stringify({ id: `moved-${i}`, expiresAt, session: { user: `moved ${i}` } }),
  );
  await writeFile(file, `${rows.join('\n')}\n`);

  const url = await startLoginServer(dir);
  const visitors = Array.from({ length: VISITORS }, (_, i) => new Visitor(url, `visitor ${i}`));
  await Promise.all(visitors.map((visitor) => visitor.logIn()));

  // The visitors keep the server saving their sessions until the commands are done.
  let commandsDone = false;
  const busy = visitors.map(async (visitor) => {
    const until = Date.now() + BUSY_MS;
    while (!commandsDone && Date.now() < until) {
      const { user, visits } = await visitor.view();
      expect(user).toBe(visitor.name);
      expect(visits).toBe(visitor.views);
    }
  });
  const commands = (async () => {
    try {
      const [pruned, imported] = await Promise.all([
        runCli(['prune', '--dir', dir, '-q']),
        runCli(['import', file, '--dir', dir, '-q']),
      ]);
      const again = await runCli(['prune', '--dir', dir, '-q']);
      return { pruned, imported, again };
    } finally {
      commandsDone = true;
    }
  })();
  const [{ pruned, imported, again }] = await Promise.all([commands, ...busy]);

  expect(pruned.code).toBe(0);
  expect(lines(pruned.stdout)[0]).toMatch(/^pruned 1,500 expired sessions of /);
  expect(again.code).toBe(0);
  expect(imported.code).toBe(0);
  expect(lines(imported.stdout)[0]).toBe('imported 1,500 sessions');
  for (const visitor of visitors) expect(visitor.views).toBeGreaterThan(3);

  // Every visitor is still logged in, with every view counted.
  for (const visitor of visitors) {
    const { user, visits } = await visitor.view();
    expect(user).toBe(visitor.name);
    expect(visits).toBe(visitor.views);
  }
  const store = appStore(dir);
  expect(await store.get('moved-1499')).toEqual({ user: 'moved 1499' });
  expect(await store.count()).toBe(1_500 + VISITORS);
  // The visitors alone may keep it busy for BUSY_MS.
}, 90_000);
