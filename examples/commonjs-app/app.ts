// The same app as TypeScript compiled to CommonJS: it must type-check against our
// declarations both with `moduleResolution: node16` and with the older `node10`.
import { createMemoryAdapter, type MemoryAdapter } from '@sessionfs/adapter-memory';
import { createNodeAdapter, type NodeAdapterOptions } from '@sessionfs/adapter-node';
import { ErrorCodes, type FsAdapter, hasErrorCode } from '@sessionfs/core';

const options: NodeAdapterOptions = { dir: './sessions', fsync: true };
const adapters: FsAdapter[] = [createNodeAdapter(options)];
const memory: MemoryAdapter = createMemoryAdapter();
adapters.push(memory);

export async function readOrNull(adapter: FsAdapter, key: string): Promise<Uint8Array | null> {
  try {
    return (await adapter.read(key, { maxBytes: 1024 }))?.data ?? null;
  } catch (error) {
    if (hasErrorCode(error, ErrorCodes.TOO_LARGE)) return null;
    throw error;
  }
}
