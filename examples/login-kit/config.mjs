// The login demos' settings from the environment, and what their servers print when they
// start or cannot: PORT (3000), HOST (127.0.0.1), SESSIONS_DIR (./sessions beside the
// server), SESSION_MAX_AGE_MS (one day) and SESSION_SECRET.
import { fileURLToPath } from 'node:url';

/**
 * @typedef {object} DemoConfig
 * @property {string} dir Where the session files go.
 * @property {number} maxAge Session lifetime in ms.
 * @property {number} port The port to listen on; 0 for any free one.
 * @property {string} host The address to listen on.
 * @property {string} secret Signs the session cookie.
 */

/**
 * Reads the settings from `env`; throws on a number that is not an integer in range.
 *
 * @param {URL} defaultDir The session directory when SESSIONS_DIR is unset or empty.
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {DemoConfig}
 */
export function readConfig(defaultDir, env = process.env) {
  /**
   * @param {string} name
   * @param {number} fallback
   * @param {number} min
   */
  const integer = (name, fallback, min) => {
    const raw = env[name];
    const value = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
    }
    return value;
  };
  return {
    dir: env.SESSIONS_DIR || fileURLToPath(defaultDir),
    maxAge: integer('SESSION_MAX_AGE_MS', 24 * 60 * 60 * 1000, 1),
    port: integer('PORT', 3000, 0),
    host: env.HOST || '127.0.0.1',
    // The cookie signature must survive restarts, so the demo has a fixed fallback secret.
    secret: env.SESSION_SECRET || 'sessionfs login demo: set SESSION_SECRET in production',
  };
}

/**
 * Tells the console where the demo listens and where its sessions go.
 *
 * @param {string} title
 * @param {string} url
 * @param {DemoConfig} config
 */
export function announce(title, url, { dir, maxAge }) {
  console.log(`${title}: open ${url} in your browser`);
  console.log(`  sessions in ${dir}, maxAge ${maxAge} ms; Ctrl+C stops it`);
}

/**
 * For an error from listening: a busy port is told on stderr, with a port to try instead,
 * and sets the exit code to 1; any other error is thrown again.
 *
 * @param {unknown} error
 * @param {DemoConfig} config
 */
export function reportListenError(error, { port }) {
  if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EADDRINUSE') throw error;
  console.error(`Port ${port} is busy: try PORT=${port + 1}`);
  process.exitCode = 1;
}
