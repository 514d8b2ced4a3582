// The smallest app with sessions on disk: each visit to / counts up, across restarts.
// Run it with `pnpm start`, then open the URL it prints and reload.
import { fileURLToPath } from 'node:url';
import { fastifySessionFile } from '@sessionfs/fastify-session-file';
import Fastify from 'fastify';

const app = Fastify({ logger: { level: 'warn' } });

await app.register(fastifySessionFile, {
  // Use a long random secret of your own in production, from the environment.
  secret: process.env.SESSION_SECRET ?? 'basic example secret, at least 32 characters',
  cookie: { secure: 'auto', maxAge: 24 * 60 * 60 * 1000 },
  store: { dir: process.env.SESSIONS_DIR ?? fileURLToPath(new URL('./sessions', import.meta.url)) },
});

app.get('/', async (request) => {
  request.session.views = (request.session.views ?? 0) + 1;
  return { views: request.session.views };
});

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => app.close());

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) });
console.log(`basic example: ${address} counts your visits in ${app.fileSessionStore.dir}`);
