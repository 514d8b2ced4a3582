import type { AdapterStat } from '@sessionfs/core/adapter';

/**
 * What the adapter knows of the value under one Redis key: nothing yet while the command
 * that will tell is on its way (`stat` undefined), then what its reply said, and when.
 */
export class TrackedValue {
  stat: AdapterStat | undefined = undefined;
  /** `performance.now()` when the reply came. */
  learnedAt = 0;

  constructor(readonly redisKey: string) {}
}

/** A tracked value whose reply came. */
export type KnownValue = TrackedValue & { readonly stat: AdapterStat };

/**
 * The values this adapter has seen in replies and that Redis has not since reported
 * changed, by Redis key, bounded in count (least recently used first out) and in age.
 *
 * An entry is made when a command about a key goes out, and filled when its reply comes,
 * only if it is still the key's entry then. Anything that drops it meanwhile (Redis
 * reporting a change, another command about the key, a lost connection) means the reply
 * may be out of date by the time it is read. That matters because the client decodes an
 * invalidation that follows a reply before the reply's own callbacks run.
 */
export class TrackedKeys {
  private readonly entries = new Map<string, TrackedValue>();

  constructor(
    private readonly maxEntries: number,
    /** How long, in ms, a value is known after its reply; then Redis is asked again. */
    private readonly ttl: number,
  ) {}

  /**
   * Makes a new entry for `redisKey` as a command about it goes out, replacing what was
   * known: the command may change the value.
   */
  expect(redisKey: string): TrackedValue {
    const entry = new TrackedValue(redisKey);
    this.entries.delete(redisKey);
    this.entries.set(redisKey, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    return entry;
  }

  /**
   * Records what the reply for `entry` says Redis holds: a value with its header (size,
   * version, expiry), or, with `version` undefined, nothing worth keeping (no value, or
   * one the adapter did not write). Ignored when the entry was dropped meanwhile.
   */
  learn(
    entry: TrackedValue,
    size: number,
    version: string | undefined,
    expiresAt: number | undefined,
  ): void {
    if (this.entries.get(entry.redisKey) !== entry) return;
    if (version === undefined) {
      this.entries.delete(entry.redisKey);
      return;
    }
    entry.stat = { size, version, expiresAt };
    entry.learnedAt = performance.now();
  }

  /**
   * The value known under `redisKey`, if a reply told it less than `ttl` ago and nothing
   * dropped it since.
   */
  known(redisKey: string): KnownValue | undefined {
    const entry = this.entries.get(redisKey);
    if (entry?.stat === undefined) return undefined;
    if (performance.now() - entry.learnedAt >= this.ttl) {
      this.entries.delete(redisKey);
      return undefined;
    }
    // Most recently used: last out.
    this.entries.delete(redisKey);
    this.entries.set(redisKey, entry);
    return entry as KnownValue;
  }

  /** Whether `entry` is still what is known of its key. */
  isCurrent(entry: TrackedValue): boolean {
    return this.entries.get(entry.redisKey) === entry;
  }

  forget(redisKey: string): void {
    this.entries.delete(redisKey);
  }

  clear(): void {
    this.entries.clear();
  }
}
