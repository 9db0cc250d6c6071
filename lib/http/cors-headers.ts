import type { CorsRecord } from '../model/cors';

/** True when the configuration allows the origin (`*`, exact, or a `*` wildcard inside). */
export function originAllowed(cors: CorsRecord, origin: string): boolean {
  return cors.allowedOrigins.some((allowed) => {
    if (allowed === '*' || allowed === origin) return true;
    if (!allowed.includes('*')) return false;
    const pattern = allowed.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'));
    return new RegExp(`^${pattern.join('[^/]*')}$`).test(origin);
  });
}

/** The headers that let a browser at `origin` read the response. */
export function corsResponseHeaders(cors: CorsRecord, origin: string): Record<string, string> {
  const wildcard = cors.allowedOrigins.includes('*') && !cors.allowCredentials;
  const headers: Record<string, string> = {
    'access-control-allow-origin': wildcard ? '*' : origin,
  };
  if (!wildcard) headers.vary = 'Origin';
  if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
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
