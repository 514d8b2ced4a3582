// Sessions shaped like what @fastify/session hands a store, about 400 bytes of JSON.
import { randomBytes } from 'node:crypto';

export const MAX_AGE = 24 * 60 * 60 * 1000;

export function sessionId() {
  return randomBytes(16).toString('hex');
}

export function makeSession(index, now = Date.now()) {
  return {
    cookie: {
      originalMaxAge: MAX_AGE,
      expires: new Date(now + MAX_AGE).toISOString(),
      secure: false,
      httpOnly: true,
      path: '/',
      sameSite: 'lax',
    },
    user: {
      id: index,
      name: `user-${index}`,
      email: `user-${index}@example.test`,
      roles: ['reader'],
    },
    views: index % 17,
    csrfSecret: `csrf-${index.toString(36).padStart(12, '0')}`,
    preferences: { theme: index % 2 ? 'dark' : 'light', language: 'en', timezone: 'Europe/Paris' },
  };
}

/** The same session after a request that only rolled its expiry forward. */
export function rolled(session, now = Date.now()) {
  return {
    ...session,
    cookie: { ...session.cookie, expires: new Date(now + MAX_AGE + 1000).toISOString() },
  };
}
