/** Characters a `*` in an origin pattern never matches: it stands for part of a host name. */
const OUTSIDE_HOST = /[/?#@:]/;

/**
 * An allowed-origin pattern compiled once: `*` alone (any origin), an exact origin, or an origin
 * with `*` wildcards (`https://*.example.com`), each matching one or more characters of a host
 * name, never `/`, `?`, `#`, `@` or `:`. Matching is greedy on the literal parts, linear in the
 * origin's length: a regular expression per pattern would backtrack polynomially on long Origin
 * headers (seconds per request with a few wildcards).
 */
export class OriginPattern {
  readonly any: boolean;
  private readonly parts: readonly string[];

  constructor(readonly pattern: string) {
    this.any = pattern === '*';
    this.parts = pattern.split('*');
  }

  matches(origin: string): boolean {
    if (this.any) return true;
    const parts = this.parts;
    if (parts.length === 1) return origin === parts[0];
    const first = parts[0];
    const last = parts[parts.length - 1];
    if (origin.length < first.length + last.length + parts.length - 1) return false;
    if (!origin.startsWith(first) || !origin.endsWith(last)) return false;
    const end = origin.length - last.length;
    let at = first.length;
    for (let i = 1; i < parts.length - 1; i++) {
      // The leftmost place for each literal leaves the most room for the rest, and the shortest
      // gap for the wildcard before it: if that gap is not a host-name run, no later place is.
      const found = origin.indexOf(parts[i], at + 1);
      if (found < 0 || found + parts[i].length > end) return false;
      if (OUTSIDE_HOST.test(origin.slice(at, found))) return false;
      at = found + parts[i].length;
    }
    return at < end && !OUTSIDE_HOST.test(origin.slice(at, end));
  }
}
