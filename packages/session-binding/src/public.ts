/**
 * `@sessionfs/session-binding/public`: the names every framework binding re-exports to its
 * users (`export * from '@sessionfs/session-binding/public'`), kept in one list.
 */
export {
  type DestroyOwnerOptions,
  type EncryptionKey,
  type EncryptionOptions,
  type ErrorCode,
  ErrorCodes,
  type FsAdapter,
  hasErrorCode,
  type OwnerOf,
  type SessionCodec,
  SessionStoreError,
  type StoreLogger,
} from '@sessionfs/core';
export type { CountCallback, StoreCallback } from './session-binding.js';
export type {
  AdapterStoreOptions,
  DirectoryStoreOptions,
  EngineOptions,
  FileSessionStoreOptions,
} from './store-options.js';
