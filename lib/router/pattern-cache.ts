import { compilePattern, type CompiledPattern } from '../model/event-pattern';

/** What a stored filter this version cannot read compiles to: it matches nothing. */
const UNREADABLE: CompiledPattern = Object.freeze({
  matches: () => false,
  explain: () => ({ field: '$filter', operator: 'invalid' }),
});

interface Entry {
  readonly pattern: CompiledPattern;
  refs: number;
}

/**
 * Compiled filters shared between subscriptions whose filters are equal, counted: the last
 * subscription to let go of one frees it, so the cache holds exactly the filters in use. Keyed
 * by the filter's JSON as written, key order included: the order of its fields is the order they
 * are tested (and paid for, and explained), so `{a, b}` and `{b, a}` are two patterns.
 *
 * @example
 * ```ts
 * const cache = new PatternCache();
 * const pattern = cache.acquire(sub.filter); // compiled once for every equal filter
 * cache.release(sub.filter); // when the subscription goes
 * ```
 */
export class PatternCache {
  private readonly entries = new Map<string, Entry>();

  /** How many distinct filters are held. */
  get size(): number {
    return this.entries.size;
  }

  /** The compiled pattern of a filter, one reference more; never throws. */
  acquire(filter: unknown): CompiledPattern {
    const key = JSON.stringify(filter);
    const entry = this.entries.get(key);
    if (entry) {
      entry.refs++;
      return entry.pattern;
    }
    let pattern: CompiledPattern;
    try {
      pattern = compilePattern(filter);
    } catch {
      // A stored filter this version cannot read (another version wrote it): it matches nothing.
      pattern = UNREADABLE;
    }
    this.entries.set(key, { pattern, refs: 1 });
    return pattern;
  }

  /** One reference less to a filter acquired before; the last one frees it. */
  release(filter: unknown): void {
    const key = JSON.stringify(filter);
    const entry = this.entries.get(key);
    if (entry && --entry.refs === 0) this.entries.delete(key);
  }
}
