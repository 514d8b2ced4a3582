export type {
  AdapterCapabilities,
  AdapterStat,
  DeleteOptions,
  FsAdapter,
  MoveOptions,
  ReadOptions,
  StoredValue,
  TouchOptions,
  WriteOptions,
  WriteResult,
} from './adapter.js';
export { jsonCodec, type SessionCodec } from './codec.js';
export {
  type ErrorCode,
  ErrorCodes,
  hasErrorCode,
  SessionStoreError,
  type SessionStoreErrorOptions,
} from './errors.js';
export {
  assertValidKey,
  assertValidPrefix,
  isValidKey,
  KEY_ALPHABET,
  KEY_PATTERN,
  MAX_KEY_LENGTH,
} from './keys.js';
export type { LogFn, StoreLogger } from './logger.js';
export type { QuarantineOptions } from './quarantine.js';
export { redactError, redactKey } from './redaction.js';
export {
  isSessionKey,
  MAX_ID_BYTES,
  MAX_SPELLED_ID_BYTES,
  SESSION_PREFIX,
  sessionIdOf,
  sessionKey,
} from './session-id.js';
export {
  type CacheOptions,
  createSessionStore,
  type ReapResult,
  type SessionData,
  type SessionStore,
  type SessionStoreOptions,
} from './store.js';
