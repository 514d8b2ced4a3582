export {
  type CountCallback,
  type GetCallback,
  SessionBinding,
  type StoreCallback,
} from './session-binding.js';
export {
  type AdapterStoreOptions,
  type DirectoryStoreOptions,
  type EngineOptions,
  type FileSessionStoreOptions,
  type OpenedEngine,
  openEngine,
} from './store-options.js';
