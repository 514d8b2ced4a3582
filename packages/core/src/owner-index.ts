import type { FsAdapter, OwnerIndex } from './adapter.js';
import { ErrorCodes, SessionStoreError, storeFailure } from './errors.js';
import type { StoreLogger } from './logger.js';
import { mapConcurrently } from './map-concurrently.js';
import { redactKey } from './redaction.js';
import { MAX_ID_BYTES, ownerKey } from './session-id.js';

/** How many owners' index keys are remembered (a few hundred kB at most). */
const REMEMBERED_OWNER_KEYS = 4_096;

/** What names the owner of a session: the store's `owner` option. */
export type OwnerOf<S> = (session: S) => string | number | undefined | null;

/** Options of `store.destroyOwner()`. */
export interface DestroyOwnerOptions {
  /** A session id (or several) to keep: the session the request that asks runs in. */
  except?: string | readonly string[];
}

/**
 * The store's half of the owner index: which owner a session has, and the order of
 * index and record changes that keeps every session findable by its owner.
 *
 * The rule: a session's entry is added *before* its record is written under that owner,
 * and added again (idempotently) *after* the write; an entry is removed only by a look
 * that then checks the record again and puts the entry back if the record changed
 * meanwhile. Whichever of a save and a removal comes first, one of the two second looks
 * sees the other, so no interleaving of processes leaves a record under an owner without
 * its entry once both have finished, and a crash of the saving process never does. One
 * moment remains: between a removal and its second look (a few system calls), a listing
 * of that owner may miss a session saved under them meanwhile, and a crash of the
 * removing process in that moment leaves the session out of the index until it is saved
 * again. A stale entry (a session gone, or now someone else's) costs only a check: every
 * entry is confirmed against its record before it is served.
 */
export class OwnerRules<S> {
  private readonly indexKeys = new Map<string, string>();

  constructor(
    private readonly ownerOfSession: OwnerOf<S>,
    readonly index: OwnerIndex,
    private readonly adapter: FsAdapter,
    private readonly logger: StoreLogger,
  ) {}

  /**
   * The owner of `session` as the app names it, as a string; `undefined` for none.
   * Throws `ERR_INVALID_OPTION` when the app's function returns something else, so that
   * a session is never saved under an owner the store cannot index.
   */
  ownerOf(session: S): string | undefined {
    return ownerName(this.ownerOfSession(session));
  }

  /** The owner of a session read back, or `undefined` where the app's function fails on it. */
  ownerOfStored(session: unknown): string | undefined {
    try {
      return ownerName(this.ownerOfSession(session as S));
    } catch {
      return undefined;
    }
  }

  /** Records `key` under `owner` (before a write, and after it: see the class). */
  enter(owner: string, key: string, expiresAt: number | undefined): Promise<void> {
    return this.index.add(this.indexKeyOf(owner), key, expiresAt).catch((error: unknown) => {
      throw storeFailure(error, 'write');
    });
  }

  /**
   * The index key of `owner`, remembered for the owners seen last: every save of an owned
   * session needs it, and a digest per save would be most of what the index costs.
   */
  private indexKeyOf(owner: string): string {
    let indexKey = this.indexKeys.get(owner);
    if (indexKey === undefined) {
      if (this.indexKeys.size >= REMEMBERED_OWNER_KEYS) this.indexKeys.clear();
      indexKey = ownerKey(owner);
      this.indexKeys.set(owner, indexKey);
    }
    return indexKey;
  }

  /**
   * Removes `key` from `owner`'s entries, then looks at the record again: one present in
   * another version than `versionSeen` (the one the caller judged; `undefined` when it found
   * none) may have been saved under this owner meanwhile, and gets its entry back. Failures
   * are logged, not thrown: the entry then stays, which is harmless.
   */
  async leave(owner: string, key: string, versionSeen: string | undefined): Promise<void> {
    const indexKey = this.indexKeyOf(owner);
    try {
      await this.index.remove(indexKey, key);
      const now = this.adapter.stat
        ? await this.adapter.stat(key)
        : await this.adapter.read(key).catch(() => ({ version: undefined, expiresAt: undefined }));
      if (now !== null && (versionSeen === undefined || now.version !== versionSeen)) {
        await this.index.add(indexKey, key, now.expiresAt);
      }
    } catch (error) {
      this.logger.warn(
        { err: error, key: redactKey(key) },
        '@sessionfs/core: could not update the owner index; the stale entry is checked on use',
      );
    }
  }

  /**
   * Removes `key` from `owner`'s entries without looking at the record again: only for a
   * caller that then removes the record in the version it judged (a conditional delete).
   * That delete is the second look: a save landing before it changes the version, and the
   * delete fails and the caller judges again; one landing after it adds its entry back.
   */
  async dropBeforeDelete(owner: string, key: string): Promise<void> {
    try {
      await this.index.remove(this.indexKeyOf(owner), key);
    } catch (error) {
      throw storeFailure(error, 'delete');
    }
  }

  /** The keys recorded under `owner`, as the index lists them. */
  keys(owner: string): AsyncIterable<string> {
    return this.index.keys(this.indexKeyOf(owner));
  }

  /**
   * Removes the entries of sessions that are gone, for an index whose entries do not
   * expire by themselves (the reaper calls it after removing expired sessions). Resolves
   * how many entries it removed.
   */
  async sweep(concurrency: number, stopped: () => boolean): Promise<number> {
    if (this.index.expiring || !this.adapter.stat) return 0;
    const stat = this.adapter.stat.bind(this.adapter);
    let removed = 0;
    for await (const indexKey of this.index.owners()) {
      const gone = mapConcurrently(this.index.keys(indexKey), concurrency, async (key) => {
        if ((await stat(key)) !== null) return false;
        await this.index.remove(indexKey, key);
        // Saved again between the look and the removal: the entry goes back.
        const again = await stat(key);
        if (again !== null) await this.index.add(indexKey, key, again.expiresAt);
        return again === null;
      });
      for await (const wasRemoved of gone) if (wasRemoved) removed += 1;
      if (stopped()) break;
    }
    return removed;
  }
}

/** `owner`'s answer as an owner name, or a thrown `ERR_INVALID_OPTION`. */
function ownerName(owner: unknown): string | undefined {
  if (owner === undefined || owner === null || owner === '') return undefined;
  if (typeof owner === 'number' && Number.isFinite(owner)) return String(owner);
  if (typeof owner === 'bigint') return String(owner);
  if (typeof owner === 'string' && owner.length <= MAX_ID_BYTES) return owner;
  throw new SessionStoreError(
    ErrorCodes.INVALID_OPTION,
    `@sessionfs/core: option \`owner\` must return a string, a number or undefined, got ${
      typeof owner === 'string' ? `a string of ${owner.length} characters` : typeof owner
    }`,
  );
}

/** The ids `except` names, as a set. */
export function exceptIds(options: DestroyOwnerOptions | undefined): ReadonlySet<string> {
  const except = options?.except;
  if (except === undefined) return new Set();
  return new Set(typeof except === 'string' ? [except] : except);
}
