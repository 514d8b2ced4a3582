import { createNodeAdapter, type NodeAdapter, type NodeFs } from '@sessionfs/adapter-node';
import { Volume } from 'memfs';

/** Options of {@link createMemoryAdapter}. */
export interface MemoryAdapterOptions {
  /** The memfs volume to store in. Default: a new, empty volume of its own. */
  volume?: Volume;
  /** The directory inside the volume. Default `/sessions`. */
  dir?: string;
}

/** An in-memory `FsAdapter` that also exposes the volume its files live in. */
export interface MemoryAdapter extends NodeAdapter {
  /** The memfs volume, to inspect or tamper with stored files in tests. */
  readonly volume: Volume;
}

/**
 * An `FsAdapter` kept in memory on memfs. It runs the very same code as
 * `@sessionfs/adapter-node` (temp file, rename, expiry in mtime) against an in-memory
 * volume, so tests that swap it in exercise the real write path, only faster and
 * without touching the disk.
 */
export function createMemoryAdapter(options: MemoryAdapterOptions = {}): MemoryAdapter {
  const volume = options.volume ?? new Volume();
  const dir = options.dir ?? '/sessions';
  // memfs mirrors node:fs; its typings differ only in nominal details.
  const fs = volume as unknown as NodeFs;
  // Flat: memory has no directory lock for shards to spread writes over.
  const adapter = createNodeAdapter({ dir, fs, layout: 'flat' });
  return Object.assign(adapter, { volume });
}
