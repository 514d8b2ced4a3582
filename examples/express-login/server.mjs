// Starts the Express login demo: `pnpm --filter @sessionfs/example-express-login start`
// from the repository root (after building the packages), or `pnpm start` here.
// PORT (3000), HOST (127.0.0.1), SESSIONS_DIR (./sessions beside this file),
// SESSION_MAX_AGE_MS (one day) and SESSION_SECRET configure it.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { buildApp } from './app.mjs';

/**
 * @param {string} name
 * @param {number} fallback
 * @param {number} min
 */
function numberFromEnv(name, fallback, min) {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const dir = process.env.SESSIONS_DIR || fileURLToPath(new URL('./sessions', import.meta.url));
const maxAge = numberFromEnv('SESSION_MAX_AGE_MS', 24 * 60 * 60 * 1000, 1);
const port = numberFromEnv('PORT', 3000, 0);
const host = process.env.HOST || '127.0.0.1';
// The cookie signature must survive restarts, so the demo has a fixed fallback secret.
const secret =
  process.env.SESSION_SECRET || 'sessionfs login demo: set SESSION_SECRET in production';

const { app, store } = buildApp({ dir, maxAge, secret });
const server = createServer(app);

/** Stops listening, drops kept-alive browser sockets rather than wait them out, closes the store. */
async function close() {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  await closed;
  await store.close();
}
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, close);

try {
  server.listen(port, host);
  await once(server, 'listening');
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  console.log(
    `sessionfs login demo (Express): open http://${shown}:${address.port} in your browser`,
  );
  console.log(`  sessions in ${dir}, maxAge ${maxAge} ms; Ctrl+C stops it`);
} catch (error) {
  if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EADDRINUSE') throw error;
  console.error(`Port ${port} is busy: try PORT=${port + 1}`);
  process.exitCode = 1;
  await store.close();
}
