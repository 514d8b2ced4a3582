/**
 * `@sessionfs/core/adapter`: what an adapter author needs, apart from the store API: the
 * `FsAdapter` contract, the key rules every key the store hands over follows, the one
 * error class with its codes, and helpers that give every adapter the same errors.
 */
export type {
  AdapterCapabilities,
  AdapterStat,
  CleanupOptions,
  DeleteOptions,
  FsAdapter,
  MoveOptions,
  OwnerIndex,
  ReadOptions,
  ReplaceOptions,
  StoredValue,
  TouchOptions,
  WriteOptions,
  WriteResult,
} from './adapter.js';
export {
  type AdapterErrorDetails,
  adapterError,
  closedError,
  PROCESS_TOKEN,
  PROCESS_TOKEN_HEX,
  tooLargeError,
} from './adapter-kit.js';
export { type ErrorCode, ErrorCodes, hasErrorCode, SessionStoreError } from './errors.js';
export {
  assertValidKey,
  assertValidPrefix,
  isValidKey,
  KEY_ALPHABET,
  KEY_PATTERN,
  MAX_KEY_LENGTH,
} from './keys.js';
export { redactError, redactKey } from './redaction.js';
