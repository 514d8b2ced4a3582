export {
  type ErrorCode,
  ErrorCodes,
  type FsAdapter,
  hasErrorCode,
  type SessionCodec,
  SessionStoreError,
  type StoreLogger,
} from '@sessionfs/core';
export {
  type AdapterStoreOptions,
  type DirectoryStoreOptions,
  type EngineOptions,
  FileSessionStore,
  type FileSessionStoreOptions,
  FileStore,
  type GetCallback,
  type StoreCallback,
} from './file-session-store.js';
export {
  DEFAULT_SESSIONS_DIR,
  type FastifySessionFileOptions,
  fastifySessionFile,
  fastifySessionFile as default,
} from './plugin.js';
