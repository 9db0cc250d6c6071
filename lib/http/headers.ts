import type { RequestHeaders } from './http-types';

/** A request header's value, repeated values joined with `, ` (names are lower-case). */
export function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Every header as one string each, in an object without a prototype: a header named
 * `__proto__` or `constructor` is just a header.
 */
export function flatHeaders(headers: RequestHeaders): Record<string, string> {
  const flat: Record<string, string> = Object.create(null);
  for (const name of Object.keys(headers)) {
    const value = headerValue(headers, name);
    if (value !== undefined) flat[name] = value;
  }
  return flat;
}

/** Headers that carry credentials: hidden wherever the gateway shows a request (system events). */
const SECRET_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
  'x-amz-security-token',
  'x-csrf-token',
  'x-xsrf-token',
]);

/** A copy of flat headers with credentials replaced by `[redacted]`. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const name of Object.keys(headers)) {
    out[name] = SECRET_HEADERS.has(name) ? '[redacted]' : headers[name];
  }
  return out;
}
