import {
  type AdapterStat,
  assertValidKey,
  assertValidPrefix,
  closedError,
  type DeleteOptions,
  type FsAdapter,
  type MoveOptions,
  type OwnerIndex,
  type ReadOptions,
  type ReplaceOptions,
  type StoredValue,
  type TouchOptions,
  tooLargeError,
  type WriteOptions,
  type WriteResult,
} from '@sessionfs/core/adapter';

/** Options of {@link createReferenceAdapter}. */
export interface ReferenceAdapterOptions {
  /** Behave like a backend that expires values by itself (as Redis does). Default `false`. */
  nativeExpiry?: boolean;
  /** The clock, in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** What its errors start with, where a published adapter puts its package name. */
const ADAPTER = '@sessionfs/reference-adapter';

interface Entry {
  readonly data: Uint8Array;
  expiresAt: number | undefined;
  readonly version: number;
}

function statOf(entry: Entry): AdapterStat {
  return {
    size: entry.data.byteLength,
    ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt }),
    version: String(entry.version),
  };
}

/** Whether a condition on the version rules the operation out. */
function otherVersion(entry: Entry, ifVersion: string | undefined): boolean {
  return ifVersion !== undefined && String(entry.version) !== ifVersion;
}

/**
 * The smallest complete `FsAdapter`: a `Map`. It is the executable reading of the
 * contract, the suite checks itself against it, and it is a starting point to copy
 * when writing a new adapter.
 */
export function createReferenceAdapter({
  nativeExpiry = false,
  now = Date.now,
}: ReferenceAdapterOptions = {}): FsAdapter {
  const entries = new Map<string, Entry>();
  let closed = false;
  let versions = 0;

  const assertOpen = () => {
    if (closed) throw closedError(ADAPTER);
  };

  /** The live entry of `key`, after the checks every operation makes. */
  const lookup = (key: string): Entry | undefined => {
    assertOpen();
    assertValidKey(key);
    const entry = entries.get(key);
    if (entry && nativeExpiry && entry.expiresAt !== undefined && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  // Per owner, their keys; entries stay until removed (`expiring: false`).
  const owned = new Map<string, Set<string>>();
  const checkedPair = (owner: string, key: string) => {
    assertOpen();
    assertValidKey(owner);
    assertValidKey(key);
  };
  const owners: OwnerIndex = {
    expiring: false,
    async add(owner, key) {
      checkedPair(owner, key);
      const keys = owned.get(owner) ?? new Set<string>();
      owned.set(owner, keys);
      keys.add(key);
    },
    async remove(owner, key) {
      checkedPair(owner, key);
      const keys = owned.get(owner);
      keys?.delete(key);
      if (keys?.size === 0) owned.delete(owner);
    },
    async *keys(owner) {
      assertOpen();
      assertValidKey(owner);
      // A copy: entries added or removed while the caller iterates may or may not show.
      yield* [...(owned.get(owner) ?? [])];
    },
    async *owners() {
      assertOpen();
      yield* [...owned.keys()];
    },
  };

  return {
    owners,
    // It keeps expiries as well: the contract reads that from its having `touch`.
    capabilities: { nativeExpiry },

    async read(key: string, { maxBytes }: ReadOptions = {}): Promise<StoredValue | null> {
      const entry = lookup(key);
      if (!entry) return null;
      if (maxBytes !== undefined && entry.data.byteLength > maxBytes) {
        throw tooLargeError(ADAPTER, key, maxBytes, entry.data.byteLength);
      }
      return { data: entry.data.slice(), ...statOf(entry) };
    },

    async write(key: string, data: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
      lookup(key);
      versions += 1;
      entries.set(key, { data: data.slice(), expiresAt: options.expiresAt, version: versions });
      return { version: String(versions) };
    },

    // Conditions are checked and acted on in one synchronous step: nothing can land between.
    async delete(key: string, { ifVersion, ifExpiredAt }: DeleteOptions = {}) {
      const entry = lookup(key);
      if (!entry || otherVersion(entry, ifVersion)) return false;
      if (
        ifExpiredAt !== undefined &&
        !(entry.expiresAt !== undefined && entry.expiresAt <= ifExpiredAt)
      ) {
        return false;
      }
      entries.delete(key);
      return true;
    },

    async *list(prefix: string) {
      assertOpen();
      assertValidPrefix(prefix);
      for (const key of entries.keys()) {
        if (key.startsWith(prefix) && lookup(key)) yield key;
      }
    },

    async stat(key: string): Promise<AdapterStat | null> {
      const entry = lookup(key);
      return entry ? statOf(entry) : null;
    },

    async touch(key: string, expiresAt: number, { ifVersion, ifLiveAt }: TouchOptions = {}) {
      const entry = lookup(key);
      if (!entry || otherVersion(entry, ifVersion)) return false;
      // Never brings an expired value back.
      if (ifLiveAt !== undefined && entry.expiresAt !== undefined && entry.expiresAt <= ifLiveAt) {
        return false;
      }
      entry.expiresAt = expiresAt;
      return true;
    },

    async replace(key: string, data: Uint8Array, options: ReplaceOptions) {
      const entry = lookup(key);
      if (!entry || otherVersion(entry, options.ifVersion)) return null;
      versions += 1;
      entries.set(key, { data: data.slice(), expiresAt: options.expiresAt, version: versions });
      return { version: String(versions) };
    },

    async move(from: string, to: string, { ifVersion }: MoveOptions = {}) {
      const entry = lookup(from);
      lookup(to);
      if (!entry || otherVersion(entry, ifVersion)) return false;
      entries.delete(from);
      entries.set(to, entry);
      return true;
    },

    async close() {
      closed = true;
    },
  };
}
