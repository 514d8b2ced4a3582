// What this app keeps in a session: express-session's module augmentation.
import 'express-session';

declare module 'express-session' {
  interface SessionData {
    /** The name the visitor logged in with; absent while logged out. */
    user?: string;
    /** Page views since logging in. */
    visits?: number;
  }
}
