export {
  createNodeAdapter,
  NEVER_EXPIRES_MTIME_MS,
  type NodeAdapter,
  type NodeAdapterOptions,
  type NodeFsPromises,
} from './node-adapter.js';
