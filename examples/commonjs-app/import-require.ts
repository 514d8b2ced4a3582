// The plugin taken as `import … = require(…)`, the form CommonJS TypeScript apps use for
// @fastify/session: the module itself must be a plugin for `app.register`, in the types
// and at run time. The test type-checks this file and runs it compiled to CommonJS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';

import fastifySessionFile = require('@sessionfs/fastify-session-file');

declare module 'fastify' {
  interface Session {
    greeting?: string;
  }
}

// One request stores a greeting in a new session; the next, with its cookie, reads it.
async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionfs-import-require-'));
  const app = Fastify();
  try {
    app.register(fastifySessionFile, {
      secret: 'a CommonJS secret of at least 32 characters',
      cookie: { secure: false },
      store: { dir, reapInterval: false },
    });
    app.post('/greeting', async (request) => {
      request.session.greeting = 'hello from import = require()';
      return { stored: true };
    });
    app.get('/greeting', async (request) => ({ greeting: request.session.greeting ?? null }));
    const origin = await app.listen({ host: '127.0.0.1', port: 0 });
    const stored = await fetch(`${origin}/greeting`, { method: 'POST' });
    const cookie = stored.headers.get('set-cookie')?.split(';')[0] ?? '';
    const read = await fetch(`${origin}/greeting`, { headers: { cookie } });
    const { greeting } = (await read.json()) as { greeting: string | null };
    console.log(`import = require(): ${greeting}`);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
