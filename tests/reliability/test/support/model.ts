/**
 * A plain in-memory model of the session store: what `get`, `set`, `touch`, `destroy`,
 * `length`, `ids`, `entries`, `clear`, `reap`, and with the `owner` option `sessionsOf`
 * and `destroyOwner`, must do, written from the documented
 * behaviour (core's README and the `SessionStore` JSDoc), not from the implementation.
 * The model-based and the fault tests run the same operations on a real store and on
 * this model, and compare every step.
 */

/** A clock that moves only when told, shared by the stores under test and the model. */
export class VirtualClock {
  constructor(private time: number) {}
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/** How a session states its lifetime, as `@fastify/session` and others shape it. */
export type Lifetime =
  /** `cookie.expires` (and `originalMaxAge`), as `@fastify/session` saves it. */
  | { kind: 'cookie-expires'; ms: number }
  /** `cookie.originalMaxAge` only. */
  | { kind: 'max-age'; ms: number }
  /** No cookie: the store's `ttl`. */
  | { kind: 'ttl' };

/** JSON data, as a session holds it besides its cookie. */
export type SessionData = Record<string, unknown>;

/** An owner as the app names it. */
export type Owner = string | number;

/** The store's `owner` option in these tests, as an app passes it: `s => s.user?.id`. */
export const ownerOfSession = (session: SessionData): Owner | undefined =>
  (session.user as { id?: Owner } | undefined)?.id;

/** The session object a caller hands to the store, with the lifetime it states. */
export function sessionOf(data: SessionData, lifetime: Lifetime, now: number): SessionData {
  if (lifetime.kind === 'ttl') return { ...data };
  const cookie: Record<string, unknown> = {
    originalMaxAge: lifetime.ms,
    path: '/',
    httpOnly: true,
  };
  if (lifetime.kind === 'cookie-expires')
    cookie.expires = new Date(now + lifetime.ms).toISOString();
  return { ...data, cookie };
}

interface ModelRecord {
  /** What reads return, less `cookie.expires` when the record restores it. */
  readonly stored: SessionData;
  /** Whether reads put `cookie.expires` back, from the expiry. */
  readonly cookieExpires: boolean;
  expiresAt: number;
}

/** JSON semantics: what the default codec gives back for `value`. */
export function jsonRoundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export interface ModelOptions {
  /** The store's `ttl`. */
  ttl: number;
  /** The adapter removes expired values by itself (Redis): they vanish from listings too. */
  nativeExpiry: boolean;
  now: () => number;
}

export class StoreModel {
  private readonly records = new Map<string, ModelRecord>();

  constructor(private readonly options: ModelOptions) {}

  /** The time of the clock the model follows. */
  now(): number {
    return this.options.now();
  }

  /** An independent copy, to go back to when an operation failed and changed nothing. */
  clone(): StoreModel {
    const copy = new StoreModel(this.options);
    for (const [id, record] of this.records) copy.records.set(id, { ...record });
    return copy;
  }

  /** The record of `id` as the adapter still holds it, expired or not. */
  private held(id: string): ModelRecord | undefined {
    const record = this.records.get(id);
    if (record && this.options.nativeExpiry && this.expired(record)) {
      this.records.delete(id);
      return undefined;
    }
    return record;
  }

  private expired(record: ModelRecord): boolean {
    return record.expiresAt <= this.options.now();
  }

  private expiryOf(lifetime: Lifetime): number {
    const now = this.options.now();
    return lifetime.kind === 'ttl' ? now + this.options.ttl : now + lifetime.ms;
  }

  /** The live ids, sorted. */
  private liveIds(): string[] {
    return [...this.records.keys()].filter((id) => this.isLive(id)).sort();
  }

  isLive(id: string): boolean {
    const record = this.held(id);
    return record !== undefined && !this.expired(record);
  }

  get(id: string): SessionData | null {
    const record = this.held(id);
    if (!record) return null;
    if (this.expired(record)) {
      // An expired record that is read is removed.
      this.records.delete(id);
      return null;
    }
    const session = jsonRoundTrip(record.stored);
    if (record.cookieExpires) {
      (session.cookie as Record<string, unknown>).expires = new Date(
        record.expiresAt,
      ).toISOString();
    }
    return session;
  }

  set(id: string, data: SessionData, lifetime: Lifetime): void {
    const session = sessionOf(data, lifetime, this.options.now());
    const cookieExpires = lifetime.kind === 'cookie-expires';
    if (cookieExpires) {
      const { expires: _restoredOnRead, ...cookie } = session.cookie as Record<string, unknown>;
      session.cookie = cookie;
    }
    this.records.set(id, {
      stored: jsonRoundTrip(session),
      cookieExpires,
      expiresAt: this.expiryOf(lifetime),
    });
  }

  /** Moves the expiry of a live session; creates nothing, and revives nothing. */
  touch(id: string, lifetime: Lifetime): void {
    const record = this.held(id);
    if (!record || this.expired(record)) return;
    record.expiresAt = this.expiryOf(lifetime);
  }

  destroy(id: string): void {
    this.records.delete(id);
  }

  length(): number {
    return this.liveIds().length;
  }

  ids(): string[] {
    return this.liveIds();
  }

  /** The live sessions, sorted by id; reading them removes the expired ones. */
  entries(): [string, SessionData][] {
    return [...this.records.keys()].sort().flatMap((id): [string, SessionData][] => {
      const session = this.get(id);
      return session === null ? [] : [[id, session]];
    });
  }

  /** The owner of the live session `id` as the store names it (a string), if it has one. */
  ownerOf(id: string): string | undefined {
    const record = this.held(id);
    if (!record || this.expired(record)) return undefined;
    const owner = ownerOfSession(record.stored);
    return owner === undefined ? undefined : String(owner);
  }

  /** The user the live session `id` holds, as the app reads it, if any. */
  userOf(id: string): unknown {
    return this.isLive(id) ? this.records.get(id)?.stored.user : undefined;
  }

  /** The live sessions of `owner` (a number and its decimal string are one owner), sorted by id. */
  sessionsOf(owner: Owner): [string, SessionData][] {
    return this.liveIds()
      .filter((id) => this.ownerOf(id) === String(owner))
      .map((id) => [id, this.get(id) as SessionData]);
  }

  /** Ends the live sessions of `owner` but those `except` names; resolves how many it ended. */
  destroyOwner(owner: Owner, except: string | readonly string[] = []): number {
    const kept = new Set(typeof except === 'string' ? [except] : except);
    const ended = this.sessionsOf(owner).filter(([id]) => !kept.has(id));
    for (const [id] of ended) this.records.delete(id);
    return ended.length;
  }

  /**
   * The ids of expired records the adapter may still hold. Reading one removes it, and
   * `sessionsOf` and `destroyOwner` read whatever their owner's index lists, stale entries
   * included (a session that has since changed hands, or was cleared): which expired
   * records they meet is the index's business, not a documented outcome. The model test
   * asks the adapter which of these are left (see `forgetRecord`).
   */
  expiredIds(): string[] {
    return [...this.records.keys()].filter((id) => {
      const record = this.held(id);
      return record !== undefined && this.expired(record);
    });
  }

  /** Forgets the record of `id`, found gone. */
  forgetRecord(id: string): void {
    this.records.delete(id);
  }

  /** Removes every record the adapter holds; resolves how many that was. */
  clear(): number {
    const count = [...this.records.keys()].filter((id) => this.held(id) !== undefined).length;
    this.records.clear();
    return count;
  }

  /**
   * Removes expired records; a backend with native expiry needs no scan. Nothing in these
   * runs is ever set aside, so nothing set aside is removed.
   */
  reap(): {
    scanned: number;
    removed: number;
    leftovers: number;
    setAsideRemoved: number;
    stopped: boolean;
  } {
    if (this.options.nativeExpiry) {
      return { scanned: 0, removed: 0, leftovers: 0, setAsideRemoved: 0, stopped: false };
    }
    const scanned = this.records.size;
    let removed = 0;
    for (const [id, record] of this.records) {
      if (this.expired(record)) {
        this.records.delete(id);
        removed += 1;
      }
    }
    return { scanned, removed, leftovers: 0, setAsideRemoved: 0, stopped: false };
  }
}
