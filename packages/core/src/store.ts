import type { AdapterStat, FsAdapter, StoredValue } from './adapter.js';
import { ErrorCodes, errorName, hasErrorCode, SessionStoreError, storeFailure } from './errors.js';
import {
  type InspectedRecord,
  type InspectionContext,
  type InspectOptions,
  inspectAll,
  inspectKey,
} from './inspection.js';
import type { StoreLogger } from './logger.js';
import { mapConcurrently } from './map-concurrently.js';
import { resolveOptions, type SessionStoreOptions, touchAfterFor } from './options.js';
import { type DestroyOwnerOptions, exceptIds, OwnerRules } from './owner-index.js';
import { setAside } from './quarantine.js';
import { SessionQuota } from './quota.js';
import { LEFTOVER_AGE_MS, Reaper, type ReapOptions, type ReapResult } from './reaper.js';
import { encodeRecord, headerRoom, parseRecord, payloadLength } from './record.js';
import { redactKey } from './redaction.js';
import { type RekeyOptions, type RekeyResult, rekey } from './rekey.js';
import { chooseSaveStrategy, type SaveStrategy } from './save-strategies.js';
import { SessionEncoding } from './session-encoding.js';
import { CORRUPT_PREFIX, isDigestKey, sessionKey } from './session-id.js';
import { SessionRecords } from './session-records.js';
import type { PreparedSession } from './session-shape.js';
import type { SessionData, SessionStore, SetOptions } from './session-store.js';
import { type Known, SessionTable } from './session-table.js';
import { StoredExpiry } from './stored-expiry.js';

export type { InspectedRecord, InspectOptions, RecordState } from './inspection.js';
export type { CacheOptions, SessionStoreOptions } from './options.js';
export type { DestroyOwnerOptions, OwnerOf } from './owner-index.js';
export type { ReapOptions, ReapProgress, ReapResult } from './reaper.js';
export type { RekeyOptions, RekeyProgress, RekeyResult } from './rekey.js';
export type { SessionData, SessionStore, SetOptions } from './session-store.js';

/** Creates a session store. Throws `ERR_INVALID_OPTION` for options it cannot work with. */
export function createSessionStore<S = SessionData>(
  options: SessionStoreOptions<S>,
): SessionStore<S> {
  return new SessionStoreEngine<S>(options);
}

/**
 * The store's rules over one adapter: ids become keys, sessions become records, expiry
 * and corruption are decided here. How an unchanged save is made is its save strategy's
 * business; the reaper, the quota and the quarantine live in their own units.
 */
class SessionStoreEngine<S> implements SessionStore<S> {
  readonly adapter: FsAdapter;
  private readonly encoding: SessionEncoding;
  private readonly concurrency: number;
  private readonly maxRecordBytes: number;
  private readonly logger: StoreLogger;
  private readonly now: () => number;
  private readonly table: SessionTable;
  private readonly records: SessionRecords;
  private readonly expiry: StoredExpiry;
  private readonly strategy: SaveStrategy;
  private readonly quota: SessionQuota | undefined;
  private readonly reaper: Reaper;
  private readonly touchAfter: number | undefined;
  /** The owner index's rules, with the `owner` option. */
  private readonly owners: OwnerRules<S> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: SessionStoreOptions<S>) {
    const settings = resolveOptions(options);
    const { adapter, now } = settings;
    this.adapter = adapter;
    this.owners =
      settings.owner && adapter.owners
        ? new OwnerRules<S>(settings.owner, adapter.owners, adapter, settings.logger)
        : undefined;
    this.encoding = new SessionEncoding(
      settings.codec,
      settings.ttl,
      now,
      settings.cipher,
      settings.logger,
    );
    this.concurrency = settings.concurrency;
    this.maxRecordBytes = settings.maxRecordBytes;
    this.logger = settings.logger;
    this.now = now;
    this.table = new SessionTable(
      settings.maxEntries,
      settings.maxBytes,
      settings.cache !== undefined,
    );
    this.records = new SessionRecords(adapter, settings.maxRecordBytes);
    this.expiry = new StoredExpiry(adapter, this.records, now, settings.logger);
    this.touchAfter = settings.touchAfter;
    this.strategy = chooseSaveStrategy(
      { adapter, table: this.table, expiry: this.expiry },
      settings.cache,
      settings.touchAfter !== 0,
    );
    if (settings.maxSessions !== undefined) {
      this.quota = new SessionQuota(
        settings.maxSessions,
        () => this.records.count(),
        now,
        () => this.reaper.runInBackground(),
      );
    }
    this.reaper = new Reaper({
      adapter,
      records: this.records,
      expiry: this.expiry,
      table: this.table,
      quota: this.quota,
      logger: settings.logger,
      now,
      concurrency: settings.concurrency,
      quarantine: settings.quarantine,
      owners: this.owners,
    });
    if (settings.reapInterval !== false) this.reaper.schedule(settings.reapInterval);
  }

  async get(id: string): Promise<S | null> {
    this.assertOpen();
    const now = this.now();
    // A known id was checked and encoded when it became known.
    const known = this.table.get(id);
    const key = known?.key ?? sessionKey(id);
    if (known?.payload) {
      const expiresAt = await this.strategy.confirmCached(key, known);
      if (expiresAt === null) {
        this.table.forget(id);
      } else if (expiresAt !== undefined) {
        if (expiresAt <= now) return this.dropExpired(id, key, now, known.version);
        known.seen = true;
        return this.encoding.decode(known.payload, expiresAt, known.cookieExpires) as S;
      }
    }

    let value: StoredValue | null;
    try {
      value = await this.adapter.read(key, { maxBytes: this.maxRecordBytes });
    } catch (error) {
      return this.readFailed(id, key, error);
    }
    if (value === null) {
      this.table.forget(id);
      return null;
    }
    return this.settle(id, key, value, known, now);
  }

  /** `get` of a record the adapter would not read: see `setAsideTooLarge` and `ERR_FOREIGN_ENTRY`. */
  private async readFailed(id: string, key: string, error: unknown): Promise<S | null> {
    if (hasErrorCode(error, ErrorCodes.TOO_LARGE)) return this.setAsideTooLarge(id, key);
    if (hasErrorCode(error, ErrorCodes.FOREIGN_ENTRY)) {
      this.table.forget(id);
      this.logger.warn(
        { key: redactKey(key), reason: error.message },
        '@sessionfs/core: something other than a session record sits under a session key; it is left alone and the session reads as missing',
      );
      return null;
    }
    throw storeFailure(error, 'read');
  }

  /**
   * The session a record read under `key` holds, judged as `get` judges it (corrupt ones
   * set aside, expired ones removed), and noted in the table.
   */
  private async settle(
    id: string,
    key: string,
    value: StoredValue,
    known: Known | undefined,
    now: number,
  ): Promise<S | null> {
    // The same version as the store last wrote or checked: the same bytes, checked then.
    const sameAsKnown =
      known !== undefined && known.version !== undefined && known.version === value.version;
    const record = parseRecord(value.data, sameAsKnown ? known.digest : undefined);
    if ('corrupt' in record) {
      await this.setAside(key, id, record.corrupt, value);
      return null;
    }
    // The key of a long id is a digest of it: its record must name this very id.
    if ((record.id !== undefined || isDigestKey(key)) && record.id !== id) {
      await this.setAside(key, id, 'record holds another session id', value);
      return null;
    }
    const expiresAt = this.expiry.of(value, record.expiresAt);
    if (expiresAt <= now) return this.dropExpired(id, key, now, value.version);

    let opened = this.encoding.open(record.payload, key, record.cookieExpires);
    // Settled at once but for a passphrase's first use: no await on every read.
    if (opened instanceof Promise) opened = await opened;
    if ('unreadable' in opened) {
      if (opened.unreadable === 'not authentic') {
        await this.setAside(key, id, 'record fails authentication', value);
      } else {
        // Another key's, or plaintext: the settings are wrong, not the record.
        this.table.forget(id);
      }
      return null;
    }
    let session: unknown;
    try {
      session = this.encoding.decode(opened.plaintext, expiresAt, record.cookieExpires);
    } catch (error) {
      // The codec's message may quote the record (JSON.parse does): only its name is logged.
      await this.setAside(key, id, `codec cannot decode the record (${errorName(error)})`, value);
      return null;
    }
    // Read back as the store last knew it (its own write, typically): nothing to note.
    if (
      sameAsKnown &&
      known.payload === undefined &&
      known.expiresAt === expiresAt &&
      known.cookieExpires === record.cookieExpires
    ) {
      known.seen = true;
      return session as S;
    }
    this.table.remember(id, known, {
      key,
      // A sealed record's header has no digest. One sealed with an older key (or none)
      // has none either, so that its next save writes it under the current key.
      digest: !opened.current
        ? undefined
        : !this.encoding.seals
          ? record.digest
          : sameAsKnown
            ? // The same version: the same plaintext, whose digest the store has.
              known.digest
            : this.strategy.digest(opened.plaintext),
      cookieExpires: record.cookieExpires,
      expiresAt,
      version: this.strategy.keptVersion(value.version),
      payload: this.table.payloadOf(opened.plaintext),
      seen: true,
      owner: this.owners?.ownerOfStored(session),
    });
    return session as S;
  }

  async set(id: string, session: S, options?: SetOptions): Promise<void> {
    this.assertOpen();
    const known = this.table.get(id);
    const key = known?.key ?? sessionKey(id);
    const prepared = this.encoding.prepare(session, options?.expiresAt);
    const owner = this.owners?.ownerOf(session);
    const payload = this.encoding.encode(prepared.body);
    const length = payloadLength(payload);
    // The record of a long id holds the id: its key is a digest.
    const recordId = isDigestKey(key) ? id : undefined;
    if (length + this.encoding.overhead + headerRoom(recordId) > this.maxRecordBytes) {
      throw new SessionStoreError(
        ErrorCodes.TOO_LARGE,
        `@sessionfs/core: session encodes to ${length} bytes, over maxRecordBytes (${this.maxRecordBytes})`,
      );
    }
    const digest = this.strategy.digest(payload);
    if (
      known &&
      digest !== undefined &&
      known.digest === digest &&
      known.cookieExpires === prepared.cookieExpires &&
      (this.expiryMayTrail(known, prepared) ||
        (await this.strategy.saveUnchanged(id, key, known, prepared.expiresAt)))
    ) {
      return;
    }

    const isNew =
      this.quota !== undefined && known === undefined && !(await this.records.exists(key));
    if (isNew) await this.quota?.admit();

    let stored = this.encoding.seal(payload, key, prepared.cookieExpires);
    if (stored instanceof Promise) stored = await stored;
    const storedLength = stored === payload ? length : payloadLength(stored);
    const record = encodeRecord(
      {
        expiresAt: prepared.expiresAt,
        cookieExpires: prepared.cookieExpires,
        // A digest of the plaintext would let whoever reads the record test guesses of it.
        digest: this.encoding.seals ? undefined : digest,
        id: recordId,
      },
      stored,
      storedLength,
    );
    const owners = this.owners;
    // Indexed before the record is written under its owner (see OwnerRules), unless the
    // record this store last knew was that owner's already.
    if (owners && owner !== undefined && known?.owner !== owner) {
      await owners.enter(owner, key, prepared.expiresAt);
    }
    let version: string | undefined;
    try {
      version = (await this.adapter.write(key, record, { expiresAt: prepared.expiresAt })).version;
    } catch (error) {
      this.table.forget(id);
      throw storeFailure(error, 'write');
    }
    if (owners) {
      // Again after: a removal that judged the record before this write may have run since.
      if (owner !== undefined) await owners.enter(owner, key, prepared.expiresAt);
      if (known?.owner !== undefined && known.owner !== owner) {
        await owners.leave(known.owner, key, version);
      }
    }
    if (isNew) this.quota?.added();
    this.table.remember(id, known, {
      key,
      digest,
      cookieExpires: prepared.cookieExpires,
      expiresAt: prepared.expiresAt,
      // The version of this very write, from the adapter: a stat now could describe a
      // write another process made meanwhile. Without one, the next save writes again.
      version: this.strategy.keptVersion(version),
      // The payload as the record holds it, text or bytes alike; the plaintext of a sealed one.
      payload: this.table.payloadOf(
        this.encoding.seals ? payload : record.subarray(record.byteLength - length),
      ),
      seen: false,
      owner,
    });
  }

  async add(id: string, session: S, options?: SetOptions): Promise<boolean> {
    this.assertOpen();
    // A check, then a write: a session saved under the same id in between is overwritten.
    // Ids are random, so only an import of a session an app holds too can meet one.
    if (await this.records.exists(sessionKey(id))) return false;
    await this.set(id, session, options);
    return true;
  }

  async touch(id: string, session: S): Promise<void> {
    this.assertOpen();
    const known = this.table.get(id);
    const key = known?.key ?? sessionKey(id);
    const prepared = this.encoding.prepare(session);
    if (known && this.expiryMayTrail(known, prepared)) return;
    const { expiresAt } = prepared;
    if (!this.expiry.keeps(expiresAt)) return this.rewriteExpiry(id, key, expiresAt);
    // What this store last saw may have expired, and still another process may have
    // written the session again since: the adapter is asked, and its move never brings an
    // expired record back (`ifLiveAt`).
    // An index whose entries expire must outlive the session it indexes.
    const owners = this.owners;
    if (owners?.index.expiring) {
      const owner = owners.ownerOfStored(session);
      if (owner !== undefined) await owners.enter(owner, key, expiresAt);
    }
    // Whatever this store remembers, the adapter moves the expiry only of a record that is
    // live in the medium: another process may have shortened it meanwhile.
    let moved: boolean;
    try {
      moved = await this.expiry.move(key, expiresAt);
    } catch (error) {
      // A record whose expiry this process may not set (in a directory shared by a group,
      // a file another user's process wrote) can still be written again.
      if (hasErrorCode(error, ErrorCodes.PERMISSION)) return this.rewriteExpiry(id, key, expiresAt);
      throw storeFailure(error, 'touch');
    }
    if (known === undefined) return;
    if (moved) known.expiresAt = expiresAt;
    else this.table.forget(id);
  }

  async destroy(id: string): Promise<void> {
    this.assertOpen();
    const known = this.table.get(id);
    const key = known?.key ?? sessionKey(id);
    this.table.forget(id);
    let removed: boolean;
    try {
      removed = await this.adapter.delete(key);
    } catch (error) {
      throw storeFailure(error, 'delete');
    }
    if (removed) this.quota?.removed();
    // An owner this store does not know of leaves a stale entry, which the reaper sweeps.
    if (known?.owner !== undefined) await this.owners?.leave(known.owner, key, undefined);
  }

  async *sessionsOf(owner: string | number): AsyncIterable<[string, S]> {
    this.assertOpen();
    const rules = this.ownerRules();
    const name = String(owner);
    const found = mapConcurrently(rules.keys(name), OWNER_CONCURRENCY, async (key) => {
      const held = await this.heldBy(rules, name, key);
      return held === null ? null : ([held.id, held.session] as [string, S]);
    });
    for await (const entry of found) if (entry !== null) yield entry;
  }

  async destroyOwner(owner: string | number, options?: DestroyOwnerOptions): Promise<number> {
    this.assertOpen();
    const rules = this.ownerRules();
    const name = String(owner);
    const except = exceptIds(options);
    let ended = 0;
    const outcomes = mapConcurrently(rules.keys(name), OWNER_CONCURRENCY, (key) =>
      this.endIfHeldBy(rules, name, key, except),
    );
    for await (const wasEnded of outcomes) if (wasEnded) ended += 1;
    return ended;
  }

  /**
   * The live session under the index entry `key` of `owner`, with the version it was read
   * in, or `null` (the entry then removed) when the record is gone or not theirs.
   */
  private async heldBy(
    rules: OwnerRules<S>,
    owner: string,
    key: string,
  ): Promise<{ id: string; session: S; version: string | undefined } | null> {
    const id = await this.records.idOf(key);
    if (id === null) {
      await rules.leave(owner, key, undefined);
      return null;
    }
    let value: StoredValue | null;
    try {
      // A record too large or a foreign entry reads as none: `get` reports them when asked.
      value = await this.records.readValue(key);
    } catch (error) {
      throw storeFailure(error, 'read');
    }
    const session =
      value === null ? null : await this.settle(id, key, value, this.table.get(id), this.now());
    if (session === null || rules.ownerOfStored(session) !== owner) {
      await rules.leave(owner, key, session === null ? undefined : value?.version);
      return null;
    }
    return { id, session, version: value?.version };
  }

  /**
   * Ends the session under the index entry `key` if it is `owner`'s (and not in `except`):
   * removed only in the version found theirs, so that a session someone else logged into
   * meanwhile stays; one saved again meanwhile is looked at again.
   */
  private async endIfHeldBy(
    rules: OwnerRules<S>,
    owner: string,
    key: string,
    except: ReadonlySet<string>,
  ): Promise<boolean> {
    for (let attempt = 0; ; attempt += 1) {
      const held = await this.heldBy(rules, owner, key);
      if (held === null || except.has(held.id)) return false;
      // Saved again and again under this owner: removed whatever its version.
      const condition =
        held.version === undefined || attempt >= MAX_END_ATTEMPTS
          ? undefined
          : { ifVersion: held.version };
      // The entry goes first, the record after it only in the version judged: a save
      // landing in between makes the delete fail, and the session is judged again.
      if (condition !== undefined) await rules.dropBeforeDelete(owner, key);
      let removed: boolean;
      try {
        removed = await this.adapter.delete(key, condition);
      } catch (error) {
        if (hasErrorCode(error, ErrorCodes.BUSY)) continue;
        throw storeFailure(error, 'delete');
      }
      if (!removed && condition !== undefined) continue;
      this.table.forget(held.id);
      if (removed) this.quota?.removed();
      if (condition === undefined) await rules.leave(owner, key, undefined);
      return removed;
    }
  }

  private ownerRules(): OwnerRules<S> {
    if (this.owners) return this.owners;
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      '@sessionfs/core: sessionsOf and destroyOwner need the `owner` option (for example owner: (s) => s.user?.id)',
    );
  }

  async length(): Promise<number> {
    let count = 0;
    for await (const _ of this.ids()) count += 1;
    return count;
  }

  async *ids(): AsyncIterable<string> {
    this.assertOpen();
    yield* this.expiry.liveIds(this.now(), this.concurrency);
  }

  async *entries(): AsyncIterable<[string, S]> {
    this.assertOpen();
    const sessions = mapConcurrently(this.records.keys(), this.concurrency, async (key) => {
      const id = await this.records.idOf(key);
      if (id === null) return null;
      const session = await this.get(id);
      return session === null ? null : ([id, session] as [string, S]);
    });
    for await (const entry of sessions) if (entry !== null) yield entry;
  }

  async clear(): Promise<number> {
    this.assertOpen();
    let removed: number;
    try {
      removed = await this.records.deleteAll(this.concurrency);
    } catch (error) {
      throw storeFailure(error, 'clear');
    } finally {
      this.table.clear();
    }
    this.quota?.counted(0);
    return removed;
  }

  reap(options?: ReapOptions): Promise<ReapResult> {
    try {
      this.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.reaper.run(options);
  }

  async *inspect(options?: InspectOptions): AsyncIterable<InspectedRecord<S>> {
    this.assertOpen();
    yield* inspectAll<S>(this.inspection(), options);
  }

  async inspectKey(key: string, options?: InspectOptions): Promise<InspectedRecord<S> | null> {
    this.assertOpen();
    return inspectKey<S>(this.inspection(), key, options);
  }

  async count(): Promise<number> {
    this.assertOpen();
    try {
      return await this.records.count();
    } catch (error) {
      throw storeFailure(error, 'list');
    }
  }

  async leftovers(): Promise<{ interruptedWrites: number | null; setAside: number }> {
    this.assertOpen();
    try {
      const interruptedWrites =
        (await this.adapter.cleanup?.(LEFTOVER_AGE_MS, { dryRun: true })) ?? null;
      let setAside = 0;
      for await (const _ of this.adapter.list(CORRUPT_PREFIX)) setAside += 1;
      return { interruptedWrites, setAside };
    } catch (error) {
      throw storeFailure(error, 'list');
    }
  }

  async rekey(options?: RekeyOptions): Promise<RekeyResult> {
    this.assertOpen();
    return rekey(
      {
        adapter: this.adapter,
        records: this.records,
        encoding: this.encoding,
        expiry: this.expiry,
        table: this.table,
        concurrency: this.concurrency,
        logger: this.logger,
        now: this.now,
      },
      options,
    );
  }

  private inspection(): InspectionContext {
    return {
      adapter: this.adapter,
      records: this.records,
      expiry: this.expiry,
      encoding: this.encoding,
      concurrency: this.concurrency,
      now: this.now,
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.reaper.stop();
      this.table.clear();
      await this.adapter.close?.();
    })();
    return this.closing;
  }

  /**
   * Whether an unchanged save (or a `touch`) may leave the stored expiry as it is: the
   * session was read since this store wrote it (see `Known.seen`), the new expiry is at
   * most `touchAfter` past the stored one, and that one is still ahead (a record at its
   * expiry may be reaped any moment). Such a save does no I/O at all; the stored expiry
   * then trails the cookie's by at most `touchAfter`. An earlier new expiry is stored.
   */
  private expiryMayTrail(known: Known, prepared: PreparedSession): boolean {
    if (this.touchAfter === 0 || !known.seen) return false;
    const lag = prepared.expiresAt - known.expiresAt;
    return (
      lag >= 0 &&
      lag <= touchAfterFor(this.touchAfter, prepared.lifetime) &&
      known.expiresAt > this.now()
    );
  }

  /** `touch` of a record whose expiry the adapter cannot move: see `StoredExpiry.rewrite`. */
  private rewriteExpiry(id: string, key: string, expiresAt: number): Promise<void> {
    this.table.forget(id);
    return this.expiry.rewrite(key, expiresAt);
  }

  /** Forgets a session found expired at `now`, and removes its record (see `StoredExpiry`). */
  private async dropExpired(
    id: string,
    key: string,
    now: number,
    version: string | undefined,
  ): Promise<null> {
    this.table.forget(id);
    if (await this.expiry.removeFound(key, now, version)) this.quota?.removed();
    return null;
  }

  /**
   * `get` of a record too large to read: it is set aside unread, if it still is too large
   * (its version from a `stat` then, so that the move is of that very record). One the
   * `stat` finds small was rewritten since the read (a store never writes a record over
   * `maxRecordBytes`): it is read again.
   */
  private async setAsideTooLarge(id: string, key: string): Promise<S | null> {
    let stat: AdapterStat | null = null;
    try {
      stat = (await this.adapter.stat?.(key)) ?? null;
    } catch (error) {
      throw storeFailure(error, 'read');
    }
    if (stat !== null && stat.size <= this.maxRecordBytes) return this.get(id);
    if (stat === null && this.adapter.stat) return null;
    await this.setAside(
      key,
      id,
      `record larger than ${this.maxRecordBytes} bytes`,
      stat ?? undefined,
    );
    return null;
  }

  /** Sets the record of session `id` aside (see `setAside`) and forgets the session. */
  private setAside(
    key: string,
    id: string,
    reason: string,
    found?: StoredValue | AdapterStat,
  ): Promise<void> {
    this.table.forget(id);
    return setAside(this.adapter, this.logger, this.now(), key, reason, found);
  }

  private assertOpen(): void {
    if (this.closing) {
      throw new SessionStoreError(ErrorCodes.CLOSED, '@sessionfs/core: the store is closed');
    }
  }
}

/** How many of an owner's sessions are looked at, or ended, at once. */
const OWNER_CONCURRENCY = 16;

/** How often `destroyOwner` removes a session only in the version it read, before any version. */
const MAX_END_ATTEMPTS = 5;

/** An error's name (`SyntaxError`), never its message, which may quote session data. */
