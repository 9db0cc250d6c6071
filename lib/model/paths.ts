/** HTTP methods a subscription or CORS configuration may name (Event Gateway 0.9's list). */
export const HTTP_METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS'] as const;

/** One of {@link HTTP_METHODS}. */
export type HttpMethod = (typeof HTTP_METHODS)[number];

const HEX = '0123456789ABCDEF';
const UNESCAPED_IN_SEGMENT = /[A-Za-z0-9\-_.~$&+:=@]/;

/**
 * Escapes a path as Go's `url.PathEscape` does, byte for byte, because subscription and CORS IDs
 * embed it and must equal the IDs Event Gateway 0.9 computed.
 */
export function pathEscape(path: string): string {
  let out = '';
  for (const byte of Buffer.from(path, 'utf8')) {
    const char = String.fromCharCode(byte);
    out +=
      byte < 0x80 && UNESCAPED_IN_SEGMENT.test(char) ? char : '%' + HEX[byte >> 4] + HEX[byte & 15];
  }
  return out;
}

/** Why a path or route is not acceptable; undefined when it is. */
export function routeProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (/[\s?#]/.test(path)) return 'must not contain whitespace, "?" or "#"';
  const segments = path.split('/').slice(1);
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === '' && i < segments.length - 1) return 'must not contain empty segments ("//")';
    if (segment.startsWith(':') && !/^:[A-Za-z0-9_]+$/.test(segment)) {
      return `has an invalid parameter segment "${segment}" (":name", letters, digits, "_")`;
    }
    if (segment.startsWith('*')) {
      if (!/^\*[A-Za-z0-9_]+$/.test(segment)) {
        return `has an invalid wildcard segment "${segment}" ("*name", letters, digits, "_")`;
      }
      if (i !== segments.length - 1) return 'may have a wildcard only as its last segment';
    }
  }
  return undefined;
}

/**
 * The set of request paths a route matches, as a string: parameters and wildcards lose their
 * names. Two routes with the same shape would match the same requests, so they conflict; routes
 * of different shapes are told apart by precedence (static, then parameter, then wildcard).
 */
export function routeShape(path: string): string {
  return path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? ':' : segment.startsWith('*') ? '*' : segment))
    .join('/');
}
