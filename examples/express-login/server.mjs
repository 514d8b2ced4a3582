// Starts the Express login demo: `pnpm --filter @sessionfs/example-express-login start`
// from the repository root (after building the packages), or `pnpm start` here.
// PORT (3000), HOST (127.0.0.1), SESSIONS_DIR (./sessions beside this file),
// SESSION_MAX_AGE_MS (one day) and SESSION_SECRET configure it, read as examples/login
// reads them (@sessionfs/example-login-kit/config).
import { once } from 'node:events';
import { createServer } from 'node:http';
import { announce, readConfig, reportListenError } from '@sessionfs/example-login-kit/config';
import { buildApp } from './app.mjs';

const config = readConfig(new URL('./sessions', import.meta.url));
const { app, store } = buildApp(config);
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
  server.listen(config.port, config.host);
  await once(server, 'listening');
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  announce('sessionfs login demo (Express)', `http://${shown}:${address.port}`, config);
} catch (error) {
  reportListenError(error, config);
  await store.close();
}
