/**
 * A map of at most `max` entries that drops the least recently used one first, handing it to
 * `evict` (to close it). For what whoever writes functions can make the gateway create at will
 * (a connection pool per origin, an SDK client per set of credentials): kept for the gateway's
 * life, each new host name, port or access key a tenant writes would cost memory for good.
 * @example
 * ```ts
 * const pools = new BoundedCache<string, Pool>(1024, (pool) => void pool.close());
 * const pool = pools.get(origin) ?? pools.set(origin, new Pool(origin));
 * ```
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    private readonly max: number,
    private readonly evict: (value: V) => void,
  ) {}

  /** The entry, made the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // A Map iterates in insertion order: re-inserting moves the key to the newest end.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** Adds (or replaces) an entry as the most recently used, evicting the oldest past `max`. */
  set(key: K, value: V): V {
    this.entries.delete(key);
    this.entries.set(key, value);
    for (const [oldest, old] of this.entries) {
      if (this.entries.size <= this.max) break;
      this.entries.delete(oldest);
      this.evict(old);
    }
    return value;
  }

  /** Every entry, oldest first. */
  values(): IterableIterator<V> {
    return this.entries.values();
  }

  /** How many entries it holds (at most `max`). */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets every entry without evicting it (the caller closes them). */
  clear(): void {
    this.entries.clear();
  }
}
