export type { DirectoryAccess, WarnFn } from './directory-safety.js';
export { NEVER_EXPIRES_MTIME_MS } from './file-metadata.js';
export { type DirectoryLayout, LAYOUT_FILE, readLayoutOf } from './layout.js';
export { createNodeAdapter, type NodeAdapter } from './node-adapter.js';
export type { NodeFs, NodeFsPromises } from './node-fs.js';
export type { NodeAdapterOptions } from './options.js';
export { OWNERS_DIR } from './owner-directories.js';
export { type RelayoutOptions, type RelayoutResult, relayout } from './relayout.js';
