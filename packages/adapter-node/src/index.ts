export {
  createNodeAdapter,
  type DirectoryAccess,
  NEVER_EXPIRES_MTIME_MS,
  type NodeAdapter,
  type NodeAdapterOptions,
  type NodeFs,
  type NodeFsPromises,
  type WarnFn,
} from './node-adapter.js';
