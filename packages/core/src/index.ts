/**
 * `@sessionfs/core`: the session store. Adapter authors find the storage contract and
 * their helpers in `@sessionfs/core/adapter`.
 */
export type { FsAdapter } from './adapter.js';
export { jsonCodec, type SessionCodec } from './codec.js';
export type { EncryptionKey, EncryptionOptions } from './encryption.js';
export {
  type ErrorCode,
  ErrorCodes,
  hasErrorCode,
  SessionStoreError,
  type SessionStoreErrorOptions,
} from './errors.js';
export type { LogFn, StoreLogger } from './logger.js';
export type { QuarantineOptions } from './quarantine.js';
export { redactKey } from './redaction.js';
export {
  isSessionKey,
  MAX_ID_BYTES,
  MAX_SPELLED_ID_BYTES,
  OWNER_PREFIX,
  ownerKey,
  SESSION_PREFIX,
  sessionIdOf,
  sessionKey,
} from './session-id.js';
export {
  type CacheOptions,
  createSessionStore,
  type DestroyOwnerOptions,
  type InspectedRecord,
  type InspectOptions,
  type OwnerOf,
  type ReapOptions,
  type ReapProgress,
  type ReapResult,
  type RecordState,
  type RekeyOptions,
  type RekeyProgress,
  type RekeyResult,
  type SessionData,
  type SessionStore,
  type SessionStoreOptions,
  type SetOptions,
} from './store.js';
