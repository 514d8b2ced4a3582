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
  type AllCallback,
  type ClearCallback,
  type DirectoryStoreOptions,
  type EngineOptions,
  type FileSessionStoreOptions,
  FileStore,
  type FileStoreOptions,
  type GetCallback,
  type LengthCallback,
  type SessionsById,
  type StoreCallback,
} from './file-store.js';
