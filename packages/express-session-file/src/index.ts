export * from '@sessionfs/session-binding/public';
export {
  type AllCallback,
  type ClearCallback,
  FileStore,
  type FileStoreOptions,
  type GetCallback,
  type LengthCallback,
  type SessionsById,
} from './file-store.js';
