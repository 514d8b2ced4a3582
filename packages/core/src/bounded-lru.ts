/**
 * A map bounded by entry count and by total bytes (as the caller measures them), evicting
 * the least recently used entries first. Memory stays bounded however many sessions pass
 * through the store.
 *
 * Recency is kept the CLOCK way: `get` only marks an entry as used, and eviction gives a
 * marked entry a second chance (moves it to the young end) instead of removing it. Every
 * request reads this map, and reordering a `Map` on each read costs more than the
 * approximation loses.
 */
export class BoundedLru<V> {
  private readonly entries = new Map<string, { value: V; bytes: number; used: boolean }>();
  private totalBytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    entry.used = true;
    return entry.value;
  }

  set(key: string, value: V, bytes: number): void {
    if (this.maxEntries <= 0 || bytes > this.maxBytes) {
      this.delete(key);
      return;
    }
    const entry = this.entries.get(key);
    if (entry && this.totalBytes + bytes - entry.bytes <= this.maxBytes) {
      // Updated in place, as a use: no reordering of the map on every save. (One that
      // makes room by evicting goes to the young end first, never to be evicted itself.)
      this.totalBytes += bytes - entry.bytes;
      entry.value = value;
      entry.bytes = bytes;
      entry.used = true;
      return;
    }
    this.delete(key);
    this.entries.set(key, { value, bytes, used: false });
    this.totalBytes += bytes;
    while (this.entries.size > this.maxEntries || this.totalBytes > this.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      const entry = this.entries.get(oldest);
      if (!entry) break;
      this.entries.delete(oldest);
      // The entry just set is never the one evicted: when every older one had its second
      // chance, it comes round first, and the next oldest (now unmarked) goes.
      if (entry.used || oldest === key) {
        entry.used = false;
        this.entries.set(oldest, entry);
      } else {
        this.totalBytes -= entry.bytes;
      }
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.totalBytes -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.totalBytes = 0;
  }
}
