// The login demo in real headless Chromium, against server.mjs in a child process: the
// browser scenario both login demos share (loginScenario in examples/login-kit/e2e.mjs).
// It needs /usr/bin/chromium, or CHROMIUM_PATH.
import { loginScenario } from '@sessionfs/example-login-kit/e2e';

loginScenario({
  server: new URL('../server.mjs', import.meta.url),
  // @fastify/session's default, which app.mjs keeps.
  cookieName: 'sessionId',
});
