// What this app keeps in a session: @fastify/session's module augmentation.
import '@fastify/session';

declare module 'fastify' {
  interface Session {
    views?: number;
  }
}
