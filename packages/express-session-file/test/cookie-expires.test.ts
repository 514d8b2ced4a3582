// Expiry set through `cookie.expires` alone (no maxAge): express-session stores the date,
// and the store must expire the session at it, as it does for maxAge.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import session from 'express-session';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../src/index.js';
import { Client, type CreateExpress, expressVersions, listen, SECRET, sleep } from './http-app.js';

/**
 * How long the session lives: long enough for the requests made before it runs out, also
 * on a loaded 2-core machine running every package's tests at once (800 ms was not).
 */
const LIFETIME_MS = 3_000;

/** An app whose login sets `cookie.expires` itself, on 127.0.0.1 on a free port. */
async function startExpiringApp(createExpress: CreateExpress, store: FileStore) {
  const app = createExpress();
  app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false }));
  app.post('/login/:user', (req, res) => {
    req.session.user = req.params.user;
    req.session.cookie.expires = new Date(Date.now() + LIFETIME_MS);
    res.json({ id: req.sessionID });
  });
  app.get('/whoami', (req, res) => {
    res.json({ id: req.sessionID, user: req.session.user ?? null });
  });
  return listen(app);
}

describe.each(expressVersions)('cookie.expires through express-session on $name', ({ create }) => {
  let root: string;
  const running: Array<{ close(): Promise<void> }> = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sessionfs-cookie-expires-'));
  });

  afterEach(async () => {
    for (const resource of running.splice(0).reverse()) await resource.close();
    await rm(root, { recursive: true, force: true });
  });

  it('serves the session until cookie.expires and not after', async () => {
    // No ttl fallback in play: a store ttl far beyond the cookie's date.
    const store = new FileStore({ dir: join(root, 'sessions'), reapInterval: false, ttl: 60_000 });
    running.push(store);
    const app = await startExpiringApp(create, store);
    running.push(app);
    const client = new Client(app.url);

    const started = Date.now();
    const { id } = (await client.request('/login/ada', 'POST')).body as { id: string };
    expect(client.lastSetCookie).toMatch(/Expires=/);
    const before = await client.request('/whoami');
    expect((await store.get(id))?.user).toBe('ada');
    // Only meaningful while the date is still ahead.
    expect(Date.now() - started).toBeLessThan(LIFETIME_MS);
    expect(before.body).toEqual({ id, user: 'ada' });

    await sleep(LIFETIME_MS + 400);
    expect(await store.get(id)).toBeNull();
    // The client still sends the cookie (a browser would have dropped it): the store no
    // longer knows the session.
    expect((await client.request('/whoami')).body.user).toBeNull();
  });
});
