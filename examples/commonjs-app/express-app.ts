// An Express app in a CommonJS TypeScript project, with express-session's `SessionData`
// augmented as its docs say: `FileStore` must type-check as an express-session store there,
// and `req.session` must carry the augmented fields. The test type-checks this file and
// runs it compiled to CommonJS.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '@sessionfs/express-session-file';

import express = require('express');
import session = require('express-session');

declare module 'express-session' {
  interface SessionData {
    views?: number;
  }
}

// Two requests with one cookie: the second sees the first's count, read back from a file.
async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionfs-express-cjs-'));
  const store: session.Store = new FileStore({ dir, reapInterval: false });
  const app = express();
  app.use(
    session({
      secret: 'a CommonJS secret of at least 32 characters',
      store,
      resave: false,
      saveUninitialized: false,
    }),
  );
  app.get('/count', (req, res) => {
    const views: number = (req.session.views ?? 0) + 1;
    req.session.views = views;
    res.json({ views });
  });
  const server = app.listen(0, '127.0.0.1');
  try {
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const first = await fetch(`${origin}/count`);
    // express-session sends most of the body before the store has saved the session, and
    // the last byte after: the whole body read, the session is stored.
    await first.text();
    const cookie = first.headers.get('set-cookie')?.split(';')[0] ?? '';
    const second = await fetch(`${origin}/count`, { headers: { cookie } });
    const { views } = (await second.json()) as { views: number };
    console.log(`express-session: views ${views}`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await (store as FileStore).close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
