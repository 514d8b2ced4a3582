// What this app keeps in a session: @fastify/session's module augmentation.
import '@fastify/session';

declare module 'fastify' {
  interface Session {
    /** The name the visitor logged in with; absent while logged out. */
    user?: string;
    /** Visits counted since logging in (`POST /visit`), on whichever instance. */
    visits?: number;
  }
}
