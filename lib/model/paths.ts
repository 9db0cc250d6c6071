import { showValue } from './describe-error';
import { ValidationError } from '../errors';

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

/** Percent-decodes a value; undefined when its escapes are not valid UTF-8. */
export function percentDecode(value: string): string | undefined {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

// Control characters, which no route can name and no request path should carry.
// eslint-disable-next-line no-control-regex -- matching them is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The one form requests are routed on: the path with each segment percent-decoded once, so that
 * `/users/%61dmin` is `/users/admin` for static routes and parameters alike. Refuses (with
 * ValidationError) what no route could mean: undecodable escapes, an encoded `/` inside a
 * segment, and control characters.
 */
export function canonicalPath(raw: string): string {
  if (typeof raw !== 'string' || !raw.startsWith('/')) {
    throw new ValidationError(
      `The path must be a string starting with "/" (got ${showValue(raw)}).`,
    );
  }
  if (!raw.includes('%')) {
    if (CONTROL.test(raw))
      throw new ValidationError('The path must not contain control characters.');
    return raw;
  }
  const segments = raw.split('/');
  for (let i = 0; i < segments.length; i++) {
    const decoded = percentDecode(segments[i]);
    if (decoded === undefined) {
      throw new ValidationError(
        `The path has an invalid percent-encoding in "${segments[i].slice(0, 100)}".`,
      );
    }
    if (decoded.includes('/')) {
      throw new ValidationError('The path must not contain an encoded "/" (%2F) inside a segment.');
    }
    segments[i] = decoded;
  }
  const path = segments.join('/');
  if (CONTROL.test(path))
    throw new ValidationError('The path must not contain control characters.');
  return path;
}

/** Why a path or route is not acceptable; undefined when it is. */
export function routeProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (/[\s?#]/.test(path)) return 'must not contain whitespace, "?" or "#"';
  if (CONTROL.test(path)) return 'must not contain control characters';
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
