import {
  type AdapterStat,
  assertValidKey,
  assertValidPrefix,
  type DeleteOptions,
  ErrorCodes,
  type FsAdapter,
  type MoveOptions,
  type ReadOptions,
  SessionStoreError,
  type StoredValue,
  type TouchOptions,
  type WriteOptions,
} from '@sessionfs/core/adapter';

/** Options of {@link createReferenceAdapter}. */
export interface ReferenceAdapterOptions {
  /** Behave like a backend that expires values by itself (as Redis does). Default `false`. */
  nativeExpiry?: boolean;
  /** The clock, in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  readonly data: Uint8Array;
  expiresAt: number | undefined;
  readonly version: number;
}

function describe(entry: Entry): AdapterStat {
  return {
    size: entry.data.byteLength,
    ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt }),
    version: String(entry.version),
  };
}

/**
 * The smallest complete `FsAdapter`: a `Map`. It is the executable reading of the
 * contract, the suite checks itself against it, and it is a starting point to copy
 * when writing a new adapter.
 */
export function createReferenceAdapter(options: ReferenceAdapterOptions = {}): FsAdapter {
  const nativeExpiry = options.nativeExpiry ?? false;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  let closed = false;
  let versions = 0;

  /** The live entry of `key`, after the checks every operation makes. */
  const lookup = (key: string): Entry | undefined => {
    if (closed) {
      throw new SessionStoreError(ErrorCodes.CLOSED, '@sessionfs/reference-adapter: closed');
    }
    assertValidKey(key);
    const entry = entries.get(key);
    if (entry && nativeExpiry && entry.expiresAt !== undefined && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  return {
    capabilities: { storesExpiry: true, nativeExpiry },

    async read(key: string, readOptions: ReadOptions = {}): Promise<StoredValue | null> {
      const entry = lookup(key);
      if (!entry) return null;
      if (readOptions.maxBytes !== undefined && entry.data.byteLength > readOptions.maxBytes) {
        throw new SessionStoreError(
          ErrorCodes.TOO_LARGE,
          `@sessionfs/reference-adapter: ${key} is larger than ${readOptions.maxBytes} bytes`,
        );
      }
      return { data: entry.data.slice(), ...describe(entry) };
    },

    async write(key: string, data: Uint8Array, writeOptions: WriteOptions = {}) {
      lookup(key);
      versions += 1;
      entries.set(key, {
        data: data.slice(),
        expiresAt: writeOptions.expiresAt,
        version: versions,
      });
      return { version: String(versions) };
    },

    // Conditions are checked and acted on in one synchronous step: nothing can land between.
    async delete(key: string, deleteOptions: DeleteOptions = {}) {
      const entry = lookup(key);
      if (!entry) return false;
      if (
        deleteOptions.ifVersion !== undefined &&
        String(entry.version) !== deleteOptions.ifVersion
      ) {
        return false;
      }
      if (
        deleteOptions.ifExpiredAt !== undefined &&
        !(entry.expiresAt !== undefined && entry.expiresAt <= deleteOptions.ifExpiredAt)
      ) {
        return false;
      }
      entries.delete(key);
      return true;
    },

    async *list(prefix: string) {
      if (closed) {
        throw new SessionStoreError(ErrorCodes.CLOSED, '@sessionfs/reference-adapter: closed');
      }
      assertValidPrefix(prefix);
      for (const key of entries.keys()) {
        if (key.startsWith(prefix) && lookup(key)) yield key;
      }
    },

    async stat(key: string): Promise<AdapterStat | null> {
      const entry = lookup(key);
      return entry ? describe(entry) : null;
    },

    async touch(key: string, expiresAt: number, options: TouchOptions = {}) {
      const entry = lookup(key);
      if (!entry) return false;
      if (options.ifVersion !== undefined && String(entry.version) !== options.ifVersion) {
        return false;
      }
      // Never brings an expired value back.
      if (
        options.ifLiveAt !== undefined &&
        entry.expiresAt !== undefined &&
        entry.expiresAt <= options.ifLiveAt
      ) {
        return false;
      }
      entry.expiresAt = expiresAt;
      return true;
    },

    async move(from: string, to: string, moveOptions: MoveOptions = {}) {
      const entry = lookup(from);
      lookup(to);
      if (!entry) return false;
      if (moveOptions.ifVersion !== undefined && String(entry.version) !== moveOptions.ifVersion) {
        return false;
      }
      entries.delete(from);
      entries.set(to, entry);
      return true;
    },

    async close() {
      closed = true;
    },
  };
}
