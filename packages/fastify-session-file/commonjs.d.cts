// The types of `require('@sessionfs/fastify-session-file')`, which returns the plugin with
// every export as a property (see tsdown.config.ts). A function merged with a namespace,
// under `export =`, is the shape @fastify/session declares: `import plugin = require(…)`
// is then both a plugin for `app.register` and the module's exports.
import api = require('./dist/index.cjs');

declare function fastifySessionFile(
  ...args: Parameters<typeof api.fastifySessionFile>
): ReturnType<typeof api.fastifySessionFile>;

declare namespace fastifySessionFile {
  // Keep in step with src/index.ts: examples/commonjs-app tests that the names agree.
  export type AdapterStoreOptions = api.AdapterStoreOptions;
  export type CountCallback = api.CountCallback;
  export import DEFAULT_SESSIONS_DIR = api.DEFAULT_SESSIONS_DIR;
  export type DestroyOwnerOptions = api.DestroyOwnerOptions;
  export type DirectoryStoreOptions = api.DirectoryStoreOptions;
  export type EncryptionKey = api.EncryptionKey;
  export type EncryptionOptions = api.EncryptionOptions;
  export type EngineOptions = api.EngineOptions;
  export type ErrorCode = api.ErrorCode;
  export import ErrorCodes = api.ErrorCodes;
  export type FastifySessionFileOptions = api.FastifySessionFileOptions;
  export import FileSessionStore = api.FileSessionStore;
  export type FileSessionStoreOptions = api.FileSessionStoreOptions;
  export import FileStore = api.FileStore;
  export type FsAdapter = api.FsAdapter;
  export type GetCallback = api.GetCallback;
  export type OwnerOf<S> = api.OwnerOf<S>;
  export type OwnerSessions = api.OwnerSessions;
  export type SessionCodec = api.SessionCodec;
  export import SessionStoreError = api.SessionStoreError;
  export type StoreCallback = api.StoreCallback;
  export type StoreLogger = api.StoreLogger;
  export import hasErrorCode = api.hasErrorCode;
  export { fastifySessionFile, fastifySessionFile as default };
}

export = fastifySessionFile;
