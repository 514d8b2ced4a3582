import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { buildApp } from '../app.mjs';

let root: string;
let app: FastifyInstance;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sessionfs-login-'));
  app = await buildApp({
    dir: join(root, 'sessions'),
    maxAge: 60_000,
    secret: 'a login test secret of 32 characters or more',
  });
});
afterEach(async () => {
  await app.close();
  await rm(root, { recursive: true, force: true });
});

function logIn(name: string) {
  return app.inject({
    method: 'POST',
    url: '/login',
    payload: new URLSearchParams({ name }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}

it('refuses an empty or overlong name without creating a session', async () => {
  for (const name of ['   ', 'x'.repeat(41)]) {
    const response = await logIn(name);
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('Enter a name of 1 to 40 characters.');
    expect(response.cookies).toEqual([]);
  }
  expect(await readdir(root)).toEqual([]);
});

it('shows the name escaped, never as markup', async () => {
  const login = await logIn('<img src=x onerror=alert(1)>');
  expect(login.statusCode).toBe(303);
  const cookie = login.cookies.find(({ name }) => name === 'sessionId');
  const page = await app.inject({ url: '/', cookies: { sessionId: cookie?.value ?? '' } });
  expect(page.body).toContain('&#60;img src=x onerror=alert(1)&#62;');
  expect(page.body).not.toContain('<img');
});

it('clears the session cookie on logout', async () => {
  const login = await logIn('Ada');
  const cookie = login.cookies.find(({ name }) => name === 'sessionId')?.value ?? '';
  const logout = await app.inject({
    method: 'POST',
    url: '/logout',
    cookies: { sessionId: cookie },
  });
  expect(logout.statusCode).toBe(303);
  expect(logout.cookies).toMatchObject([{ name: 'sessionId', value: '' }]);
  // Dot-names are the store's own: the file that records the directory's layout.
  expect((await readdir(join(root, 'sessions'))).filter((name) => !name.startsWith('.'))).toEqual(
    [],
  );
});

it('ends the other sessions of the user only, and says how many', async () => {
  const cookieOf = (response: Awaited<ReturnType<typeof logIn>>) =>
    response.cookies.find(({ name }) => name === 'sessionId')?.value ?? '';
  const laptop = cookieOf(await logIn('Ada'));
  const phone = cookieOf(await logIn('Ada'));
  const colleague = cookieOf(await logIn('Grace'));
  const anonymous = await app.inject({ method: 'POST', url: '/logout-others' });
  expect(anonymous.headers.location).toBe('/');
  const ended = await app.inject({
    method: 'POST',
    url: '/logout-others',
    cookies: { sessionId: laptop },
  });
  expect(ended.headers.location).toBe('/?ended=1');
  const whoIs = async (cookie: string) =>
    (await app.inject({ url: '/', cookies: { sessionId: cookie } })).body;
  expect(await whoIs(phone)).toContain('You are not logged in.');
  expect(await whoIs(laptop)).toContain('<strong id="user">Ada</strong>');
  expect(await whoIs(colleague)).toContain('<strong id="user">Grace</strong>');
});
