import type { CorsRecord } from '../model/cors';
import { OriginPattern } from './origin-pattern';

/** Each configuration's patterns, compiled once (records are immutable, so the cache is exact). */
const compiled = new WeakMap<CorsRecord, readonly OriginPattern[]>();

/** True when the configuration allows the origin (`*`, exact, or `*` wildcards in a host name). */
export function originAllowed(cors: CorsRecord, origin: string): boolean {
  let patterns = compiled.get(cors);
  if (!patterns) {
    patterns = cors.allowedOrigins.map((allowed) => new OriginPattern(allowed));
    compiled.set(cors, patterns);
  }
  for (const pattern of patterns) if (pattern.matches(origin)) return true;
  return false;
}

/** The headers that let a browser at `origin` read the response. */
export function corsResponseHeaders(cors: CorsRecord, origin: string): Record<string, string> {
  // A record with "*" and credentials is refused at write time; one from an older store gets
  // "*" without credentials rather than every origin reflected with them.
  const wildcard = cors.allowedOrigins.includes('*');
  const headers: Record<string, string> = {
    'access-control-allow-origin': wildcard ? '*' : origin,
  };
  if (!wildcard) headers.vary = 'Origin';
  if (cors.allowCredentials && !wildcard) headers['access-control-allow-credentials'] = 'true';
  return headers;
}

/** The headers of a preflight answer. */
export function preflightHeaders(cors: CorsRecord, origin: string): Record<string, string> {
  return {
    ...corsResponseHeaders(cors, origin),
    'access-control-allow-methods': cors.allowedMethods.join(', '),
    'access-control-allow-headers': cors.allowedHeaders.join(', '),
  };
}
