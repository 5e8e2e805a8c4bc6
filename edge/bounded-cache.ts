/**
 * A map bounded in size whose entries expire. When full, the least recently used entry makes room, so a
 * flood of distinct keys (a crawler, a scan of made-up keys) evicts the coldest entries, never the whole
 * cache, and the hot keys keep answering from memory.
 *
 * Recency is kept to within half the cache: a Map iterates in insertion order, and a hit re-inserts its
 * entry only once at least half the cache's capacity of insertions has passed since its own. An entry
 * younger than that is still in the newer half, which the next eviction cannot reach; so a key read over
 * and over costs one lookup per read instead of a delete and an insert.
 */
export class BoundedCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #maxEntries: number;
  readonly #touchAfter: number;
  /** Insertions so far: an entry's `stamp` says how far back in the order it sits. */
  #clock = 0;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
    this.#touchAfter = Math.floor(maxEntries / 2);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value, unless absent or expired at `now` (epoch ms). */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    if (this.#clock - entry.stamp >= this.#touchAfter) {
      this.#entries.delete(key);
      entry.stamp = this.#clock++;
      this.#entries.set(key, entry);
    }
    return entry.value;
  }

  /** Keeps `value` until `expiresAt` (epoch ms) at the latest. */
  set(key: string, value: V, expiresAt: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt, stamp: this.#clock++ });
  }
}

interface Entry<V> {
  value: V;
  expiresAt: number;
  stamp: number;
}
