export {
  createNodeAdapter,
  NEVER_EXPIRES_MTIME_MS,
  type NodeAdapter,
  type NodeAdapterOptions,
  type NodeFs,
  type NodeFsPromises,
} from './node-adapter.js';
