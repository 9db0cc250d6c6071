import { compilePattern, type CompiledPattern } from '../model/event-pattern';

/** What a stored filter this version cannot read compiles to: it matches nothing. */
const UNREADABLE: CompiledPattern = Object.freeze({
  matches: () => false,
  explain: () => ({ field: '$filter', operator: 'invalid' }),
});

interface Entry {
  readonly pattern: CompiledPattern;
  /** The filter it was compiled from: a subscription's, held anyway (equality is checked on it). */
  readonly filter: unknown;
  refs: number;
  /** The next entry whose JSON hashes alike. */
  next: Entry | undefined;
}

/**
 * Compiled filters shared between subscriptions whose filters are equal, counted: the last
 * subscription to let go of one frees it, so the cache holds exactly the filters in use. Equal
 * means equal JSON, key order included: the order of a filter's fields is the order they are
 * tested (and paid for, and explained), so `{a, b}` and `{b, a}` are two patterns. Entries are
 * found by a hash of that JSON, not the JSON itself: a filter's text is held once, by its record.
 *
 * @example
 * ```ts
 * const cache = new PatternCache();
 * const pattern = cache.acquire(sub.filter); // compiled once for every equal filter
 * cache.release(sub.filter); // when the subscription goes
 * ```
 */
export class PatternCache {
  private readonly buckets = new Map<number, Entry>();
  private count = 0;

  /** How many distinct filters are held. */
  get size(): number {
    return this.count;
  }

  /** The compiled pattern of a filter, one reference more; never throws. */
  acquire(filter: unknown): CompiledPattern {
    const json = JSON.stringify(filter);
    const hash = hashOf(json);
    const first = this.buckets.get(hash);
    for (let entry = first; entry; entry = entry.next) {
      if (entry.filter === filter || JSON.stringify(entry.filter) === json) {
        entry.refs++;
        return entry.pattern;
      }
    }
    let pattern: CompiledPattern;
    try {
      pattern = compilePattern(filter);
    } catch {
      // A stored filter this version cannot read (another version wrote it): it matches nothing.
      pattern = UNREADABLE;
    }
    this.buckets.set(hash, { pattern, filter, refs: 1, next: first });
    this.count++;
    return pattern;
  }

  /** One reference less to a filter acquired before; the last one frees it. */
  release(filter: unknown): void {
    const json = JSON.stringify(filter);
    const hash = hashOf(json);
    let previous: Entry | undefined;
    for (let entry = this.buckets.get(hash); entry; previous = entry, entry = entry.next) {
      if (entry.filter !== filter && JSON.stringify(entry.filter) !== json) continue;
      if (--entry.refs > 0) return;
      if (previous) previous.next = entry.next;
      else if (entry.next) this.buckets.set(hash, entry.next);
      else this.buckets.delete(hash);
      this.count--;
      return;
    }
  }
}

/**
 * FNV-1a over the UTF-16 code units of a text: the 32-bit hash the cache files a filter's JSON
 * under (collisions are resolved by comparing JSON).
 *
 * @example
 * ```ts
 * hashOf('{"x":["a"]}'); // a number in [0, 2 ** 32)
 * ```
 */
export function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
