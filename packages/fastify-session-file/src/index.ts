export * from '@sessionfs/session-binding/public';
export { FileSessionStore, FileStore, type GetCallback } from './file-session-store.js';
export {
  DEFAULT_SESSIONS_DIR,
  type FastifySessionFileOptions,
  fastifySessionFile,
  fastifySessionFile as default,
  type OwnerSessions,
} from './plugin.js';
