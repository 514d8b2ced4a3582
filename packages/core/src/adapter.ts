/**
 * The storage contract of sessionfs.
 *
 * An adapter only moves bytes. The store owns every rule: it validates session ids and
 * turns them into keys, encodes and decodes sessions, decides expiry and caching. An
 * adapter may therefore assume that every key it receives matches `KEY_PATTERN` and is
 * at most `MAX_KEY_LENGTH` characters long; checking again with `assertValidKey` is
 * cheap and recommended.
 *
 * The contract is shaped for files (node:fs, memfs) and for remote stores alike:
 * nothing requires a rename, listing is a cursor, and expiry is an absolute time that
 * a backend such as Redis (`SET … PXAT`) can enforce natively.
 *
 * Errors: every method rejects (never throws synchronously) with a `SessionStoreError`
 * whose `code` names the failure kind (`ERR_IO`, `ERR_NO_SPACE`, `ERR_PERMISSION`,
 * `ERR_UNAVAILABLE`, `ERR_TOO_LARGE`, `ERR_CLOSED`, `ERR_INVALID_KEY`, `ERR_BUSY`,
 * `ERR_FOREIGN_ENTRY`) and whose `cause` is the backend's own error. A missing key is
 * never an error.
 *
 * `@sessionfs/adapter-test-suite` checks every guarantee below; run it against any
 * new adapter.
 */
export interface FsAdapter {
  /**
   * How the backend behaves where the methods alone do not say. Which optional methods
   * (`stat`, `touch`, `move`, `cleanup`, `close`) an adapter implements is its other
   * capability: present means supported. An adapter with `touch` keeps expiries: it
   * implements `stat` too, and reports the expiry given to `write` and `touch` in `read`
   * and `stat`.
   */
  readonly capabilities: AdapterCapabilities;

  /**
   * Reads the whole value stored under `key`, with what `stat` would report of it, taken
   * from the same read (a file adapter gets it from the handle it reads, Redis from the
   * same pipeline), so that the store learns the expiry without a second round trip.
   *
   * - Resolves `null` when the key does not exist: never an `ENOENT`-style error, never
   *   a retry.
   * - Resolves exactly the bytes of one completed `write`, never a mix of two writes or
   *   a prefix of one, even while another process is writing the same key.
   * - With `capabilities.nativeExpiry`, resolves `null` once the value's `expiresAt`
   *   has passed. Without it, expired values may still be returned: the store checks.
   * - With `options.maxBytes`, rejects with `ERR_TOO_LARGE` instead of reading a value
   *   larger than that, so a huge or hostile file cannot exhaust memory.
   * - Rejects with `ERR_FOREIGN_ENTRY` when what sits under `key` is not a value the
   *   adapter wrote (a file adapter finds a link, a FIFO, a device or a directory there):
   *   it is never followed, opened in a blocking way, or read.
   */
  read(key: string, options?: ReadOptions): Promise<StoredValue | null>;

  /**
   * Replaces the whole value under `key` with `data`, atomically: a concurrent or later
   * `read` sees either the previous value or this one, never part of either, also if the
   * process dies during the write. When several writes to one key race, one of them
   * wins whole.
   *
   * - On failure the previous value stays readable and no partial or temporary entry is
   *   left behind or listed.
   * - `options.expiresAt` (epoch milliseconds) is the time after which the value is no
   *   longer wanted. Adapters with `touch` keep it (reported by `read` and `stat`,
   *   moved by `touch`); adapters with `capabilities.nativeExpiry` also remove
   *   the value by themselves once it passes. Without `expiresAt` the value never expires
   *   in the adapter.
   * - The adapter may keep a reference to `data` only until the promise settles, and
   *   must not modify it.
   * - An adapter whose `stat` reports versions resolves the version of the value this
   *   very write stored (a file adapter takes it from the temp file's handle before the
   *   rename). The store cannot learn it with a `stat` afterwards: another process may
   *   have written in between, and taking that write's version for its own would make
   *   the store skip a later save as unchanged, or serve a stale cached copy.
   */
  write(key: string, data: Uint8Array, options?: WriteOptions): Promise<WriteResult>;

  /**
   * Removes `key`, and resolves whether a value was there. Idempotent: deleting a
   * missing key resolves `false`.
   *
   * With a condition (`options.ifVersion`, `options.ifExpiredAt`), removes the value only
   * if it holds at the moment of removal, as one step: a `write` or `touch` of the key
   * that lands while the check runs is never removed or undone, also when it comes from
   * another process. The store's reaper removes expired values this way; a check followed
   * by a plain `delete` would delete whatever was written in between. An adapter that
   * cannot do this for a condition rejects with `ERR_INVALID_OPTION` rather than delete
   * unconditionally. It may reject with `ERR_BUSY` while another process does the same
   * kind of work on the same storage (the reaper then ends its round early).
   */
  delete(key: string, options?: DeleteOptions): Promise<boolean>;

  /**
   * Lists the keys that start with `prefix` (`''` lists every key), in no particular
   * order, as a stream: an implementation pages or reads a directory incrementally and
   * never materialises the whole listing, so it stays cheap for millions of keys.
   *
   * - Yields each existing key once per listing, and only keys that a `write` created:
   *   never temp files, partial writes or foreign entries that are not keys. (A cursor
   *   over a backend that resizes meanwhile, such as Redis `SCAN`, may repeat a key.)
   * - Keys written or deleted while the listing runs may or may not appear.
   * - Breaking out of the loop early releases whatever the listing holds (a directory
   *   handle, a cursor).
   * - Errors reject the iteration with a `SessionStoreError`.
   */
  list(prefix: string): AsyncIterable<string>;

  /**
   * Metadata of `key` without reading its value, or `null` when it does not exist.
   * Lets the store validate a cache entry and the reaper find expired values cheaply.
   */
  stat?(key: string): Promise<AdapterStat | null>;

  /**
   * Moves the expiry of an existing value to `expiresAt` without rewriting its data,
   * so that a session whose content did not change costs far less than a write.
   * Resolves `true` when the key existed, `false` (and creates nothing) when it did not.
   * An adapter that implements it keeps expiries (see `capabilities`); an expiry past
   * `capabilities.expiresUntil` is not kept (the store rewrites the value instead).
   *
   * With `options.ifVersion` (a version this adapter's `read`, `write` or `stat` reported),
   * moves the expiry only while the value is still that version, and otherwise resolves
   * `false` and moves nothing: the store's "unchanged, so only the expiry moves" in one
   * call, without a `stat` first. Adapters that report no versions are never given one.
   *
   * With `options.ifLiveAt` (epoch ms), moves the expiry only while the stored expiry is
   * after that time, and otherwise resolves `false`: an expired value is never brought
   * back, whatever the caller remembers of it. An adapter with `nativeExpiry` gets this
   * for free (the value is gone).
   */
  touch?(key: string, expiresAt: number, options?: TouchOptions): Promise<boolean>;

  /**
   * Moves the value (and its expiry) from `from` to `to`, replacing any value at `to`,
   * without the store having to read it: used to set corrupt or oversized records aside
   * for inspection. Resolves `false` when `from` did not exist.
   *
   * With `options.ifVersion`, moves the value only while it is still that version, as one
   * step (as a conditional `delete` does), and otherwise resolves `false`: a record
   * rewritten since the store found it corrupt stays where it is. It may reject with
   * `ERR_BUSY`, as a conditional `delete` may.
   */
  move?(from: string, to: string, options?: MoveOptions): Promise<boolean>;

  /**
   * Writes `data` as the value of `key` (with `options.expiresAt`, as `write`), only while
   * the stored value is still `options.ifVersion`, as one step: a value written or removed
   * in between stays as it is. Resolves the version of what it wrote, or `null`, writing
   * nothing, when the value is no longer that version (or is gone). The store re-encrypts
   * stored sessions with it (`rekey`) without overwriting a save made meanwhile.
   */
  replace?(key: string, data: Uint8Array, options: ReplaceOptions): Promise<WriteResult | null>;

  /**
   * Removes what interrupted writes left behind (a file adapter's temp files, when the
   * process died between creating one and renaming it) whose last change is more than
   * `olderThanMs` ms old, and resolves how many it removed. The age keeps it away from
   * writes still under way in other processes. The store's reaper calls it. With
   * `dryRun`, it removes nothing and resolves how many it would remove (for a report).
   */
  cleanup?(olderThanMs: number, options?: CleanupOptions): Promise<number>;

  /**
   * The owner index, where the backend keeps one (see {@link OwnerIndex}): the store's
   * `owner` option needs it. Absent: the adapter cannot index sessions by owner.
   */
  readonly owners?: OwnerIndex;

  /**
   * Releases resources (handles, connections, timers). Idempotent. After `close()`
   * every other method rejects with `ERR_CLOSED`.
   */
  close?(): Promise<void>;
}

/**
 * Per owner, a set of keys: the store's index of sessions by their owner (`owner` option,
 * `sessionsOf`, `destroyOwner`). Owners and keys reach it as valid keys (an owner is a
 * digest the store makes of the app's owner id), so an adapter may use them as names.
 *
 * The index is a hint the store never trusts blindly: it confirms every entry against the
 * session's own record before serving or counting it, and removes entries it finds stale.
 * An adapter therefore only has to keep what it is given: an entry added is listed until
 * it is removed (or, with `expiring`, until the expiry given to `add` passes), from any
 * process sharing the storage.
 */
export interface OwnerIndex {
  /**
   * Entries expire by themselves, each owner's set at the latest expiry given to `add`
   * (Redis). The store then calls `add` again whenever it moves a session's expiry.
   * Without it entries stay until removed; the store's reaper removes those of sessions
   * that are gone.
   */
  readonly expiring: boolean;
  /** Records `key` under `owner`; idempotent. `expiresAt` as in `write`. */
  add(owner: string, key: string, expiresAt?: number): Promise<void>;
  /** Removes `key` from `owner`'s entries; removing a missing entry is no error. */
  remove(owner: string, key: string): Promise<void>;
  /**
   * The keys recorded under `owner`, streamed as `list` streams: an entry present for the
   * whole listing is yielded (a cursor may repeat one), one added or removed meanwhile may
   * or may not be.
   */
  keys(owner: string): AsyncIterable<string>;
  /** Every owner with at least one entry, streamed (for the reaper's sweep). */
  owners(): AsyncIterable<string>;
}

/** How the backend behaves, where the methods an adapter implements do not say. */
export interface CleanupOptions {
  /** Count what would be removed, and remove nothing. */
  dryRun?: boolean;
}

export interface AdapterCapabilities {
  /**
   * The backend itself removes values once their `expiresAt` passes and `read` never
   * returns an expired value (Redis `PXAT`). The store then needs no reaper for space,
   * only for its own bookkeeping.
   */
  readonly nativeExpiry: boolean;
  /**
   * The latest expiry (epoch ms) that `write`, `touch` and `stat` keep; a later one reads
   * back as no expiry (file times end in 2038 on many filesystems). The store then keeps
   * the expiry in the record only, and rewrites the record instead of moving its expiry
   * with `touch`. Omitted: any expiry is kept.
   */
  readonly expiresUntil?: number;
  /**
   * Writing a session costs this backend no more than checking its version (`stat`) or
   * moving its expiry (`touch`) does. The store then saves an unchanged session by writing
   * it again, in one call, rather than by a `stat` or a `touch` with `ifVersion`. Redis
   * sets it: a `SET` of a small value costs the server less than the script a version
   * check needs. Omitted: false, as for files, where a write costs far more than a
   * `touch`. (`store.touch()` still moves the expiry with `touch`: it has no data to write.)
   */
  readonly cheapWrites?: boolean;
}

/** Options of {@link FsAdapter.read}. */
export interface ReadOptions {
  /** Reject with `ERR_TOO_LARGE` rather than read a value larger than this many bytes. */
  maxBytes?: number;
}

/** Options of {@link FsAdapter.write}. */
export interface WriteOptions {
  /** Absolute expiry in epoch milliseconds; omitted means the value never expires. */
  expiresAt?: number;
}

/** Options of {@link FsAdapter.touch}. */
export interface ReplaceOptions extends WriteOptions {
  /** The version (as `read` reported it) the stored value must still have. */
  ifVersion: string;
}

export interface TouchOptions {
  /** Move the expiry only if the stored value is still this version. */
  ifVersion?: string;
  /** Move the expiry only if the stored expiry is after this time (epoch ms). */
  ifLiveAt?: number;
}

/** Conditions of {@link FsAdapter.delete}; all that are given must hold. */
export interface DeleteOptions {
  /** Remove the value only if it is still this version. */
  ifVersion?: string;
  /**
   * Remove the value only if its stored expiry is at or before this time (epoch ms); a
   * value stored without expiry is kept. Only for adapters that keep expiries (`touch`).
   */
  ifExpiredAt?: number;
}

/** Conditions of {@link FsAdapter.move}. */
export interface MoveOptions {
  /** Move the value only if it is still this version. */
  ifVersion?: string;
}

/** What {@link FsAdapter.write} resolves. */
export interface WriteResult {
  /**
   * The version of the value just written, as `stat` reports it until the value changes
   * again. Adapters that report no versions resolve `{}`.
   */
  readonly version?: string;
}

/** What {@link FsAdapter.read} resolves: the bytes and their metadata. */
export interface StoredValue extends AdapterStat {
  /** The stored bytes; the caller may keep and modify them. */
  readonly data: Uint8Array;
}

/** What {@link FsAdapter.stat} reports of a stored value. */
export interface AdapterStat {
  /** Size of the stored value in bytes. */
  readonly size: number;
  /**
   * The expiry given to the last `write` or `touch`, in epoch milliseconds, when the
   * adapter stores expiry; `undefined` when the value never expires.
   */
  readonly expiresAt?: number | undefined;
  /**
   * An opaque token that changes whenever the stored bytes change, and not when only the
   * expiry moves (`touch`). Equal tokens mean the value read before is still current,
   * which lets a cache shared with other processes skip a read.
   */
  readonly version?: string | undefined;
}
