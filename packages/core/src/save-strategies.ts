import type { AdapterStat, FsAdapter } from './adapter.js';
import { ErrorCodes, hasErrorCode, storeFailure } from './errors.js';
import { digestOf } from './record.js';
import type { Known, SessionTable } from './session-table.js';
import type { StoredExpiry } from './stored-expiry.js';

/**
 * How the store saves a session whose data did not change, and how far it trusts what it
 * remembers of a record. The store picks one strategy when it is created
 * ({@link chooseSaveStrategy}); `get` and `set` ask it, and nothing else, about either.
 */
export interface SaveStrategy {
  /** What the strategy does, in a few words (for tests and debugging). */
  readonly name: string;
  /**
   * The digest a save records of its encoded session, by which a later save tells that
   * the data did not change; `undefined` where no save is ever skipped as unchanged.
   */
  digest(payload: Uint8Array | string): string | undefined;
  /** What the table keeps of the version of a record read or written. */
  keptVersion(version: string | undefined): string | undefined;
  /**
   * Saves session `id`, whose data is what `known` describes, with the expiry `expiresAt`,
   * without writing it. Resolves `false` when the record must be written after all.
   */
  saveUnchanged(id: string, key: string, known: Known, expiresAt: number): Promise<boolean>;
  /**
   * Whether the cached copy in `known` is still what the adapter holds: resolves its
   * current expiry when it is, `undefined` when the record must be read, `null` when the
   * record is gone.
   */
  confirmCached(key: string, known: Known): Promise<number | null | undefined>;
}

/** What the strategies work on. */
export interface SaveContext {
  readonly adapter: FsAdapter;
  readonly table: SessionTable;
  readonly expiry: StoredExpiry;
}

/** Picks the strategy for a store over `context.adapter` with the cache set as given. */
export function chooseSaveStrategy(
  context: SaveContext,
  cache: { readonly mode: 'shared' | 'exclusive' } | undefined,
  lazyExpiry: boolean,
): SaveStrategy {
  if (cache?.mode === 'exclusive') return new TrustExclusiveCache(context);
  if (context.adapter.capabilities.cheapWrites) {
    return new WriteEverySave(context, cache !== undefined, lazyExpiry);
  }
  return new CheckThenMoveExpiry(context);
}

/**
 * Files, and any adapter where a write costs more than a `stat` or a `touch`: an unchanged
 * save with the same expiry checks the record's version with one `stat` and writes
 * nothing; one with a new expiry moves it with one `touch` guarded by that version. A
 * record another process rewrote since is written again.
 */
export class CheckThenMoveExpiry implements SaveStrategy {
  readonly name = 'check the version, move the expiry';

  constructor(private readonly context: SaveContext) {}

  digest(payload: Uint8Array | string): string {
    return digestOf(payload);
  }

  keptVersion(version: string | undefined): string | undefined {
    return version;
  }

  async saveUnchanged(id: string, key: string, known: Known, expiresAt: number): Promise<boolean> {
    if (known.expiresAt === expiresAt) return this.isCurrent(key, known);
    if (known.version === undefined) return false;
    return moveKnownExpiry(this.context, id, key, expiresAt, known, known.version);
  }

  confirmCached(key: string, known: Known): Promise<number | null | undefined> {
    return confirmByStat(this.context, key, known);
  }

  /** Whether `known` still describes the stored record: the same version and expiry. */
  private async isCurrent(key: string, known: Known): Promise<boolean> {
    const { adapter, expiry } = this.context;
    if (known.version === undefined || !adapter.stat) return false;
    try {
      const stat = await adapter.stat(key);
      return stat?.version === known.version && expiry.matches(stat, known.expiresAt);
    } catch {
      return false;
    }
  }
}

/**
 * Adapters whose writes cost no more than a check (`capabilities.cheapWrites`, Redis):
 * every save that is not skipped writes, in one call. Saves carry a digest only where an
 * unchanged one can be skipped (`touchAfter`), which spares it the round trip. Versions are
 * kept only to confirm cached copies.
 */
export class WriteEverySave implements SaveStrategy {
  readonly name = 'write every save';

  constructor(
    private readonly context: SaveContext,
    private readonly caching: boolean,
    private readonly lazyExpiry: boolean,
  ) {}

  digest(payload: Uint8Array | string): string | undefined {
    return this.lazyExpiry ? digestOf(payload) : undefined;
  }

  keptVersion(version: string | undefined): string | undefined {
    // A new version string per save, held by a long-lived table entry, would only be
    // garbage for the collector to copy and promote where nothing asks for it.
    return this.caching ? version : undefined;
  }

  async saveUnchanged(): Promise<boolean> {
    return false;
  }

  confirmCached(key: string, known: Known): Promise<number | null | undefined> {
    return confirmByStat(this.context, key, known);
  }
}

/**
 * An exclusive cache (`cache: { mode: 'exclusive' }`): this process alone writes the
 * storage, so what it remembers is the truth. An unchanged save with the same expiry
 * costs nothing; a new expiry is moved with `touch` where writes are dear, and written
 * where they are cheap. Cached copies are served without a check; no versions are kept.
 */
export class TrustExclusiveCache implements SaveStrategy {
  readonly name = 'trust the exclusive cache';

  constructor(private readonly context: SaveContext) {}

  digest(payload: Uint8Array | string): string {
    return digestOf(payload);
  }

  keptVersion(): undefined {
    return undefined;
  }

  async saveUnchanged(id: string, key: string, known: Known, expiresAt: number): Promise<boolean> {
    if (known.expiresAt === expiresAt) return true;
    if (this.context.adapter.capabilities.cheapWrites) return false;
    return moveKnownExpiry(this.context, id, key, expiresAt, known);
  }

  async confirmCached(_key: string, known: Known): Promise<number> {
    return known.expiresAt;
  }
}

/**
 * Moves the expiry of session `id` (see {@link StoredExpiry.move}) and notes it in
 * `known`; a record not moved is forgotten. Not allowed to move this record's expiry (a
 * file another user's process wrote, in a directory shared by a group): false, so that it
 * is written instead.
 */
async function moveKnownExpiry(
  { table, expiry }: SaveContext,
  id: string,
  key: string,
  expiresAt: number,
  known: Known,
  ifVersion?: string,
): Promise<boolean> {
  // An expiry the adapter cannot hold is written: the record is still the one known.
  if (!expiry.keeps(expiresAt)) return false;
  try {
    if (await expiry.move(key, expiresAt, ifVersion)) {
      known.expiresAt = expiresAt;
      return true;
    }
  } catch (error) {
    if (hasErrorCode(error, ErrorCodes.PERMISSION)) return false;
    throw storeFailure(error, 'touch');
  }
  table.forget(id);
  return false;
}

/** A cached copy confirmed with one `stat`: the same version is the same bytes. */
async function confirmByStat(
  { adapter, expiry }: SaveContext,
  key: string,
  known: Known,
): Promise<number | null | undefined> {
  if (!adapter.stat || known.version === undefined) return undefined;
  let stat: AdapterStat | null;
  try {
    stat = await adapter.stat(key);
  } catch (error) {
    throw storeFailure(error, 'read');
  }
  if (stat === null) return null;
  if (stat.version !== known.version) return undefined;
  return expiry.of(stat, known.expiresAt);
}
