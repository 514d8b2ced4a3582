import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { readConfig } from '../config.mjs';

const defaultDir = new URL('./sessions', import.meta.url);

it('falls back to the defaults for unset or empty variables', () => {
  expect(readConfig(defaultDir, { PORT: '', HOST: '' })).toEqual({
    dir: fileURLToPath(defaultDir),
    maxAge: 24 * 60 * 60 * 1000,
    port: 3000,
    host: '127.0.0.1',
    secret: 'sessionfs login demo: set SESSION_SECRET in production',
  });
});

it('takes every setting from the environment', () => {
  const env = {
    SESSIONS_DIR: '/var/lib/demo',
    SESSION_MAX_AGE_MS: '2000',
    PORT: '0',
    HOST: '::1',
    SESSION_SECRET: 'a secret of 32 characters or more, for the test',
  };
  expect(readConfig(defaultDir, env)).toEqual({
    dir: '/var/lib/demo',
    maxAge: 2000,
    port: 0,
    host: '::1',
    secret: env.SESSION_SECRET,
  });
});

it('refuses a number that is not a whole number in range, naming the variable', () => {
  expect(() => readConfig(defaultDir, { PORT: '-1' })).toThrow(
    'PORT must be an integer of at least 0, got "-1"',
  );
  expect(() => readConfig(defaultDir, { PORT: '80.5' })).toThrow(/^PORT must be/);
  expect(() => readConfig(defaultDir, { SESSION_MAX_AGE_MS: '0' })).toThrow(
    'SESSION_MAX_AGE_MS must be an integer of at least 1, got "0"',
  );
  expect(() => readConfig(defaultDir, { SESSION_MAX_AGE_MS: 'soon' })).toThrow(
    /^SESSION_MAX_AGE_MS must be/,
  );
});
