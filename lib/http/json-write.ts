import { UnsupportedMediaTypeError } from '../errors';
import { headerValue } from './headers';
import type { RequestHeaders } from './http-types';
import { mediaType } from './request-body';

/** Longest Content-Type echoed back in the refusal. */
const SHOWN_TYPE_LENGTH = 100;

/**
 * True when a request carries a body (RFC 9112: a `Transfer-Encoding`, or a `Content-Length`
 * other than 0), whatever a body parser made of it since.
 */
export function hasBody(headers: RequestHeaders): boolean {
  const length = headerValue(headers, 'content-length');
  return (
    headerValue(headers, 'transfer-encoding') !== undefined ||
    (length !== undefined && length.trim() !== '0')
  );
}

/**
 * Refuses a write whose body is not `application/json` (parameters such as `charset` aside) with
 * UnsupportedMediaTypeError (415), before the body is read. A browser sends another site's form
 * as `text/plain`, `application/x-www-form-urlencoded` or `multipart/form-data` without asking
 * first, with the user's cookies; `application/json` it sends only after a CORS preflight the
 * Configuration API never grants. Other `+json` types are refused too: they name other semantics
 * (a merge patch) than this API's replace.
 *
 * @example
 * ```ts
 * requireJsonBody({ 'content-type': 'application/json; charset=utf-8' }); // passes
 * requireJsonBody({ 'content-type': 'text/plain' }); // throws UnsupportedMediaTypeError
 * ```
 */
export function requireJsonBody(headers: RequestHeaders): void {
  const type = mediaType(headers['content-type']);
  if (type === 'application/json') return;
  const shown = type === '' ? 'none' : JSON.stringify(type.slice(0, SHOWN_TYPE_LENGTH));
  throw new UnsupportedMediaTypeError(
    `Unsupported Media Type: a write's body must be sent as application/json (Content-Type: ${shown}).`,
  );
}
