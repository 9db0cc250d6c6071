/** A route match: the value stored at the route and the path parameters it captured. */
export interface RouteMatch<T> {
  readonly value: T;
  readonly params: Readonly<Record<string, string>>;
}

/** A segment of routes. Its maps and set exist only once needed: most nodes use one of them. */
interface TrieNode<T> {
  statics?: Map<string, TrieNode<T>>;
  params?: Map<string, TrieNode<T>>;
  wildcards?: Map<string, Bag<T>>;
  values?: Bag<T>;
}

/**
 * The values of one route: an array while they are few (most routes hold one value, and an
 * array of one costs a third of a Set), a Set once they are many (removal stays cheap when
 * thousands of subscriptions share a route).
 */
type Bag<T> = T[] | Set<T>;
/** Values past which a route's array becomes a Set. */
const SMALL_BAG = 8;

/** The bag with the value added (the same bag, or a Set it grew into); undefined if present. */
function bagAdd<T>(bag: Bag<T> | undefined, value: T): Bag<T> | undefined {
  if (!bag) return [value];
  if (bag instanceof Set) return bag.has(value) ? undefined : bag.add(value);
  if (bag.includes(value)) return undefined;
  if (bag.length < SMALL_BAG) {
    bag.push(value);
    return bag;
  }
  return new Set(bag).add(value);
}

/** Removes a value; true when it was there. */
function bagDelete<T>(bag: Bag<T>, value: T): boolean {
  if (bag instanceof Set) return bag.delete(value);
  const at = bag.indexOf(value);
  if (at < 0) return false;
  bag.splice(at, 1);
  return true;
}

const bagSize = <T>(bag: Bag<T>): number => (bag instanceof Set ? bag.size : bag.length);

const EMPTY_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

const node = <T>(): TrieNode<T> => ({});

/** Splits a path into segments; a trailing slash is ignored, and `/` has none. */
export function pathSegments(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed === '/' || trimmed === '' ? [] : trimmed.slice(1).split('/');
}

/**
 * Routes with static segments, `:param` segments and a trailing `*wildcard` (one or more
 * segments), several values per route. Paths are matched as given: callers pass the canonical
 * (decoded) form, so parameters are decoded values. Lookup cost depends on the path's length and the routes
 * along it, never on the number of routes elsewhere.
 */
export class PathTrie<T> {
  private readonly root: TrieNode<T> = node();
  private count = 0;
  /** The matches of `/`, the path most events come with, kept until the trie changes. */
  private rootMatches: readonly RouteMatch<T>[] | undefined;

  /** How many values the trie holds. */
  get size(): number {
    return this.count;
  }

  add(route: string, value: T): void {
    const { target, wildcard } = this.walk(route, true) as {
      target: TrieNode<T>;
      wildcard?: string;
    };
    const bag = bagAdd(
      wildcard === undefined ? target.values : target.wildcards?.get(wildcard),
      value,
    );
    if (!bag) return;
    if (wildcard === undefined) target.values = bag;
    else (target.wildcards ??= new Map()).set(wildcard, bag);
    this.count++;
    this.rootMatches = undefined;
  }

  /**
   * Removes a value from a route. Nodes left empty are removed too: routes come and go (a
   * subscription moved to a new path every minute), and a trie that kept every path it ever
   * held would grow for ever.
   */
  remove(route: string, value: T): void {
    const segments = pathSegments(route);
    // The nodes along the route, root first, each with the map and key it hangs from.
    const chain: { node: TrieNode<T>; map: Map<string, TrieNode<T>>; key: string }[] = [];
    let current = this.root;
    let wildcard: string | undefined;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i];
      if (segment.startsWith('*')) {
        wildcard = segment.slice(1);
        break;
      }
      const isParam = segment.startsWith(':');
      const key = isParam ? segment.slice(1) : segment;
      const map = isParam ? current.params : current.statics;
      const next = map?.get(key);
      if (!map || !next) return;
      chain.push({ node: next, map, key });
      current = next;
    }
    const set = wildcard === undefined ? current.values : current.wildcards?.get(wildcard);
    if (!set || !bagDelete(set, value)) return;
    this.count--;
    this.rootMatches = undefined;
    if (bagSize(set) > 0) return;
    if (wildcard === undefined) current.values = undefined;
    else {
      const wildcards = current.wildcards as Map<string, Bag<T>>;
      wildcards.delete(wildcard);
      if (wildcards.size === 0) current.wildcards = undefined;
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const { node, map, key } = chain[i];
      if (node.values || node.wildcards || node.statics || node.params) return;
      map.delete(key);
      if (map.size > 0) return;
      const parent = i > 0 ? chain[i - 1].node : this.root;
      if (parent.statics === map) parent.statics = undefined;
      else parent.params = undefined;
    }
  }

  /** How many nodes the trie holds, the root included (for tests: empty nodes are let go). */
  get nodeCount(): number {
    const count = (at: TrieNode<T>): number => {
      let n = 1;
      for (const child of at.statics?.values() ?? []) n += count(child);
      for (const child of at.params?.values() ?? []) n += count(child);
      return n;
    };
    return count(this.root);
  }

  /** Every value whose route matches the path (for fan-out). Do not modify the array. */
  matchAll(path: string): readonly RouteMatch<T>[] {
    if (path === '/') {
      if (!this.rootMatches) {
        const out: RouteMatch<T>[] = [];
        this.collect(this.root, [], 0, EMPTY_PARAMS, out);
        this.rootMatches = Object.freeze(out);
      }
      return this.rootMatches;
    }
    const out: RouteMatch<T>[] = [];
    this.collect(this.root, pathSegments(path), 0, EMPTY_PARAMS, out);
    return out;
  }

  /**
   * The values of the single best route for the path: static segments win over parameters, which
   * win over wildcards, segment by segment, backtracking when a branch dead-ends.
   */
  matchBest(path: string): { values: T[]; params: Record<string, string> } | undefined {
    return this.best(this.root, pathSegments(path), 0, {});
  }

  private walk(
    route: string,
    create: boolean,
  ): { target: TrieNode<T>; wildcard?: string } | undefined {
    let current = this.root;
    const segments = pathSegments(route);
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i];
      if (segment.startsWith('*')) {
        const name = segment.slice(1);
        if (!current.wildcards?.has(name) && !create) return undefined;
        return { target: current, wildcard: name };
      }
      const isParam = segment.startsWith(':');
      const key = isParam ? segment.slice(1) : segment;
      let next = (isParam ? current.params : current.statics)?.get(key);
      if (!next) {
        if (!create) return undefined;
        const map = isParam ? (current.params ??= new Map()) : (current.statics ??= new Map());
        map.set(key, (next = node()));
      }
      current = next;
    }
    return { target: current };
  }

  private collect(
    at: TrieNode<T>,
    segments: string[],
    i: number,
    params: Record<string, string>,
    out: RouteMatch<T>[],
  ): void {
    if (i === segments.length) {
      if (at.values) for (const value of at.values) out.push({ value, params });
      return;
    }
    const segment = segments[i];
    const next = at.statics?.get(segment);
    if (next) this.collect(next, segments, i + 1, params, out);
    if (at.params)
      for (const [name, child] of at.params) {
        this.collect(child, segments, i + 1, { ...params, [name]: segment }, out);
      }
    if (at.wildcards)
      for (const [name, values] of at.wildcards) {
        const rest = { ...params, [name]: segments.slice(i).join('/') };
        for (const value of values) out.push({ value, params: rest });
      }
  }

  private best(
    at: TrieNode<T>,
    segments: string[],
    i: number,
    params: Record<string, string>,
  ): { values: T[]; params: Record<string, string> } | undefined {
    if (i === segments.length)
      return at.values && bagSize(at.values) > 0 ? { values: [...at.values], params } : undefined;
    const segment = segments[i];
    const next = at.statics?.get(segment);
    const viaStatic = next && this.best(next, segments, i + 1, params);
    if (viaStatic) return viaStatic;
    if (at.params)
      for (const [name, child] of at.params) {
        const viaParam = this.best(child, segments, i + 1, { ...params, [name]: segment });
        if (viaParam) return viaParam;
      }
    if (at.wildcards)
      for (const [name, values] of at.wildcards) {
        if (bagSize(values) > 0) {
          return {
            values: [...values],
            params: { ...params, [name]: segments.slice(i).join('/') },
          };
        }
      }
    return undefined;
  }
}
