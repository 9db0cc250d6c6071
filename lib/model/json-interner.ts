import { deepFreeze } from './checks';

/** Most lists an interner keeps (the most recently seen). */
const DEFAULT_LIMIT = 256;
/** Longest JSON text of a list that is interned: larger ones are rarely equal, and cost more. */
const MAX_TEXT = 256;

/**
 * Shares the equal lists of JSON values: a value given to {@link JsonInterner.intern} comes back
 * deeply frozen, each small array in it replaced by an equal one seen before, if any. Thousands of
 * subscriptions' filters repeat the same lists of values and operators (`[{ prefix: '/shop/' }]`,
 * `['FR', 'DE']`) beside one of their own: shared, those lists are held once. They are frozen, so
 * sharing them cannot be seen, except by identity.
 *
 * Bounded: it keeps the last `limit` distinct lists seen (each at most 256 characters of JSON);
 * one let go is still held by the values that use it, and is not shared again until seen anew.
 * Equal means equal JSON, keys in the same order, and -0 apart from 0.
 *
 * @example
 * ```ts
 * const interner = new JsonInterner();
 * const a = interner.intern(JSON.parse('{"source":[{"prefix":"/shop/"}],"id":["1"]}'));
 * const b = interner.intern(JSON.parse('{"source":[{"prefix":"/shop/"}],"id":["2"]}'));
 * a.source === b.source; // true
 * ```
 */
export class JsonInterner {
  /** Lists by JSON text, least recently seen first. */
  private readonly nodes = new Map<string, object>();

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  /** How many lists are kept. */
  get size(): number {
    return this.nodes.size;
  }

  /**
   * The value, deeply frozen, with its parts shared. A value that is not frozen yet may be
   * changed in place (its parts replaced): pass one nobody else holds, such as a JSON.parse result.
   */
  intern<T>(value: T): T {
    return this.node(value) as T;
  }

  /** The node to use for a value: objects are walked, arrays (lists) looked up whole. */
  private node(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return this.list(value);
    let node = value as Record<string, unknown>;
    for (const key of Object.keys(value)) {
      const part = this.node(node[key]);
      if (part === node[key]) continue;
      // A frozen value is copied before a part of it is replaced (fromEntries keeps `__proto__`
      // an own key).
      if (node === value && Object.isFrozen(value))
        node = Object.fromEntries(Object.entries(value));
      node[key] = part;
    }
    return Object.freeze(node);
  }

  /**
   * An equal list seen before, or this one, frozen. Lists are what filters repeat (a field's
   * values and operators), and one JSON.stringify per list is the whole cost: objects around
   * them are seldom equal, and each would be written again.
   */
  private list(value: unknown[]): unknown {
    const text = JSON.stringify(value);
    if (text === undefined || text.length > MAX_TEXT || !isPlainJson(value)) {
      return deepFreeze(value);
    }
    const held = this.nodes.get(text);
    if (held !== undefined) {
      // Seen again: the most recently seen, kept longest.
      this.nodes.delete(text);
      this.nodes.set(text, held);
      return held;
    }
    this.nodes.set(text, deepFreeze(value));
    if (this.nodes.size > this.limit) this.nodes.delete(this.nodes.keys().next().value as string);
    return value;
  }
}

/**
 * Whether JSON text says all of a value (no -0, which JSON writes as 0; nothing JSON leaves out
 * or changes), so that equal texts mean equal values.
 */
function isPlainJson(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return true;
  if (typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.every(isPlainJson);
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && Object.values(value).every(isPlainJson);
}
