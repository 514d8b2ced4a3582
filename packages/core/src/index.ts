export type {
  AdapterCapabilities,
  AdapterStat,
  FsAdapter,
  ReadOptions,
  StoredValue,
  WriteOptions,
} from './adapter.js';
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
