/**
 * A map bounded in size whose entries expire. When full, the least recently used entry makes room, so a
 * flood of distinct keys (a crawler, a scan of made-up keys) evicts the coldest entries, never the whole
 * cache, and the hot keys keep answering from memory.
 */
export class BoundedCache<V> {
  // A Map iterates in insertion order, and a hit is re-inserted: the first key is the least recently used.
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value, unless absent or expired at `now` (epoch ms). */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` until `expiresAt` (epoch ms) at the latest. */
  set(key: string, value: V, expiresAt: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt });
  }
}
