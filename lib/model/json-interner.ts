/** Most nodes an interner keeps (the most recently seen). */
const DEFAULT_LIMIT = 256;
/** Longest JSON text of a node that is interned: larger ones are rarely equal, and cost more. */
const MAX_TEXT = 256;

/**
 * Shares the equal parts of JSON values: a value given to {@link JsonInterner.intern} comes back
 * deeply frozen, each small object and array in it replaced by an equal one seen before, if any.
 * Thousands of subscriptions' filters repeat the same lists and operators (`[{ prefix: '/shop/' }]`,
 * `['FR', 'DE']`) with one value of their own: shared, those parts are held once. The nodes are
 * frozen, so sharing them cannot be seen, except by identity.
 *
 * Bounded: it keeps the last `limit` distinct nodes seen (each at most 256 characters of JSON);
 * one let go is still held by the values that use it, and is not shared again until seen anew.
 * Equal means equal JSON with keys in the same order, and -0 apart from 0.
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
  /** Nodes by JSON text, least recently seen first. */
  private readonly nodes = new Map<string, object>();

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  /** How many nodes are kept. */
  get size(): number {
    return this.nodes.size;
  }

  /**
   * The value, deeply frozen, with its parts shared. A value that is not frozen yet may be
   * changed in place (its parts replaced): pass one nobody else holds, such as a JSON.parse result.
   */
  intern<T>(value: T): T {
    return this.node(value)[0] as T;
  }

  /** The node to use for a value, and its JSON text (undefined: too long, or not JSON). */
  private node(value: unknown): [unknown, string | undefined] {
    if (typeof value !== 'object' || value === null) return [value, scalarText(value)];
    let node = value as Record<string, unknown>;
    const frozen = Object.isFrozen(node);
    // The text is joined from its parts' (one flat string, not a chain of concatenations).
    let parts: string[] | undefined = [];
    const replace = (key: string | number, part: unknown): void => {
      if (part === node[key]) return;
      // A frozen value is copied before a part of it is replaced (fromEntries keeps `__proto__`
      // an own key).
      if (node === value && frozen) {
        node = (
          Array.isArray(value) ? [...value] : Object.fromEntries(Object.entries(value))
        ) as Record<string, unknown>;
      }
      node[key] = part;
    };
    const isArray = Array.isArray(value);
    const keys = isArray ? value.keys() : Object.keys(value);
    for (const key of keys) {
      const [part, partText] = this.node((value as Record<string | number, unknown>)[key]);
      replace(key, part);
      if (partText === undefined) parts = undefined;
      else parts?.push(isArray ? partText : `${JSON.stringify(key)}:${partText}`);
    }
    const text = parts && (isArray ? `[${parts.join(',')}]` : `{${parts.join(',')}}`);
    Object.freeze(node);
    if (text === undefined || text.length > MAX_TEXT) return [node, undefined];
    const held = this.nodes.get(text);
    if (held !== undefined) {
      // Seen again: the most recently seen, kept longest.
      this.nodes.delete(text);
      this.nodes.set(text, held);
      return [held, text];
    }
    this.nodes.set(text, node);
    if (this.nodes.size > this.limit) this.nodes.delete(this.nodes.keys().next().value as string);
    return [node, text];
  }
}

/** A JSON scalar's text (-0 apart from 0); undefined for what JSON does not hold. */
function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) {
    return JSON.stringify(value);
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    return Object.is(value, -0) ? '-0' : String(value);
  }
  return undefined;
}
