// Moving an app from another file store: users logged in through session-file-store
// (express-session) or @itrocks/fastify-file-session-store (@fastify/session) are still
// logged in, with the same cookie, once the app runs on sessionfs after
// `sessionfs import --from ...`; the old files are left as they were.
import { once } from 'node:events';
import { mkdir, readdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { FileStore as ItrocksFileStore } from '@itrocks/fastify-file-session-store';
import { FileStore } from '@sessionfs/express-session-file';
import { fastifySessionFile } from '@sessionfs/fastify-session-file';
import express from 'express';
import expressSession, { type Store } from 'express-session';
import Fastify, { type FastifyInstance } from 'fastify';
import sessionFileStore from 'session-file-store';
import { afterEach, expect, it } from 'vitest';
import { lines, runCli, sessionDir, snapshot } from './support.js';

// `user` is declared as `{ name }` by importers.test.ts, in the same program.

const SECRET = 'a migration secret of at least thirty-two characters';
const closing: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

/** An express-session app over `store`, listening on a loopback port; its URL. */
async function expressApp(store: Store): Promise<string> {
  const app = express();
  app.use(
    expressSession({
      store,
      secret: SECRET,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 3_600_000 },
    }),
  );
  app.post('/login/:name', (request, response) => {
    request.session.user = { name: request.params.name };
    response.json({ ok: true });
  });
  app.get('/me', (request, response) => {
    response.json({ user: request.session.user?.name ?? null });
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closing.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

it('keeps session-file-store users logged in on @sessionfs/express-session-file', async () => {
  const oldDir = `${await sessionDir()}-session-file-store`;
  const OldStore = sessionFileStore(expressSession);
  const before = await expressApp(
    new OldStore({ path: oldDir, logFn: () => {}, reapInterval: -1 }),
  );
  const cookies: Record<string, string> = {};
  for (const name of ['ada', 'bob', 'cy']) {
    const response = await fetch(`${before}/login/${name}`, { method: 'POST' });
    cookies[name] = (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
  }
  // session-file-store may answer before its write (a temp file, then a rename) is done.
  await expect
    .poll(async () => (await readdir(oldDir)).filter((name) => name.endsWith('.json')).length)
    .toBe(3);
  await expect.poll(async () => (await readdir(oldDir)).length).toBe(3);
  const oldFiles = await snapshot(oldDir);

  const dir = await sessionDir();
  const run = await runCli(['import', '--from', 'session-file-store', oldDir, '--dir', dir]);
  expect(run.code).toBe(0);
  expect(lines(run.stdout)).toEqual([
    'imported 3 sessions',
    'skipped 0 already in the store, 0 expired, 0 unreadable',
    `the files in ${oldDir} are left as they were`,
  ]);
  expect(await snapshot(oldDir)).toEqual(oldFiles);

  const store = new FileStore({ dir, reapInterval: false });
  closing.push(() => store.close());
  const after = await expressApp(store);
  for (const [name, cookie] of Object.entries(cookies)) {
    const me = await (await fetch(`${after}/me`, { headers: { cookie } })).json();
    expect(me).toEqual({ user: name });
  }
});

/** A @fastify/session app with `register`ed session support; logs in and tells who. */
async function fastifyApp(register: (app: FastifyInstance) => Promise<void>) {
  const app = Fastify();
  closing.push(() => app.close());
  await register(app);
  app.post<{ Params: { name: string } }>('/login/:name', async (request) => {
    request.session.user = { name: request.params.name };
    return { ok: true };
  });
  app.get('/me', async (request) => ({ user: request.session.user?.name ?? null }));
  return app;
}

it('keeps @itrocks/fastify-file-session-store users logged in on @sessionfs/fastify-session-file', async () => {
  const oldDir = `${await sessionDir()}-itrocks`;
  await mkdir(oldDir);
  const before = await fastifyApp(async (app) => {
    await app.register(fastifyCookie);
    await app.register(fastifySession, {
      secret: SECRET,
      cookie: { secure: false, maxAge: 3_600_000 },
      saveUninitialized: false,
      store: new ItrocksFileStore(oldDir),
    });
  });
  const cookies: Record<string, string> = {};
  for (const name of ['dee', 'eve']) {
    const response = await before.inject({ method: 'POST', url: `/login/${name}` });
    const cookie = response.cookies.find((set) => set.name === 'sessionId');
    cookies[name] = cookie?.value ?? '';
  }
  const oldFiles = await snapshot(oldDir);

  const dir = await sessionDir();
  const run = await runCli(['import', '--from', 'itrocks', oldDir, '--dir', dir]);
  expect(run.code).toBe(0);
  expect(lines(run.stdout)[0]).toBe('imported 2 sessions');
  expect(await snapshot(oldDir)).toEqual(oldFiles);

  const after = await fastifyApp(async (app) => {
    await app.register(fastifySessionFile, {
      secret: SECRET,
      cookie: { secure: false, maxAge: 3_600_000 },
      saveUninitialized: false,
      store: { dir, reapInterval: false },
    });
  });
  for (const [name, sessionId] of Object.entries(cookies)) {
    const me = await after.inject({ url: '/me', cookies: { sessionId } });
    expect(me.json()).toEqual({ user: name });
  }
});
