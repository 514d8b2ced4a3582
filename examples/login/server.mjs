// Starts the login demo: `pnpm demo` from the repository root, or `pnpm start` here.
// PORT (3000), HOST (127.0.0.1), SESSIONS_DIR (./sessions beside this file),
// SESSION_MAX_AGE_MS (one day) and SESSION_SECRET configure it, read as
// examples/express-login reads them (@sessionfs/example-login-kit/config).
import { announce, readConfig, reportListenError } from '@sessionfs/example-login-kit/config';
import { buildApp } from './app.mjs';

const config = readConfig(new URL('./sessions', import.meta.url));
const app = await buildApp({ ...config, logger: { level: 'warn' } });
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => app.close());

try {
  const address = await app.listen({ host: config.host, port: config.port });
  announce('sessionfs login demo', address, config);
} catch (error) {
  reportListenError(error, config);
  await app.close();
}
