import { showValue } from '../model/describe-error';
import type * as Http from 'node:http';
import { isBase64 } from '../events/cloudevent';
import type { EventsResponse } from './http-types';

/**
 * Headers a function may not set: hop-by-hop headers belong to one connection, and the framing
 * (length, encoding) is the gateway's to write for the body it sends. Passed through, a
 * `transfer-encoding` or a wrong `content-length` leaves clients hanging or misreading.
 */
const DROPPED_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
]);

/**
 * Headers a tenant's function may not set on the Events API's origin (which may be the host
 * app's own): cookies would be tossed into the app's users' browsers, and CORS headers would open
 * the origin to other sites.
 */
function tenantMayNotSet(name: string): boolean {
  return name === 'set-cookie' || name === 'set-cookie2' || name.startsWith('access-control-');
}

/**
 * node:http, for its header checks: loaded with the first sync response's headers, so that a
 * gateway that answers none does not load it (~1.3 MiB of RSS, see BENCHMARKS.md).
 */
let http: typeof Http | undefined;

/** Why a header cannot be sent as is (CR/LF, a space in a name...), or undefined. */
function headerProblem(name: string, value: string): string | undefined {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
  http ??= require('node:http') as typeof Http;
  try {
    http.validateHeaderName(name);
    http.validateHeaderValue(name, value);
    return undefined;
  } catch {
    return `header ${JSON.stringify(name.slice(0, 100))} has an invalid name or value (control characters, spaces in the name...)`;
  }
}

/**
 * What a sync function answers: `{ statusCode?, headers?, body?, isBase64Encoded? }` (Event
 * Gateway 0.9's contract; `isBase64Encoded` marks a binary body sent as base64).
 */
export interface SyncFunctionResponse {
  /** @default 200 */
  statusCode?: number;
  headers?: Record<string, string>;
  body?: string;
  /** @default false */
  isBase64Encoded?: boolean;
}

/**
 * Maps a sync function's result to the HTTP response; a string says what is malformed. A
 * tenant's function (`writer`) may not set cookies or CORS headers.
 */
export function toHttpResponse(result: unknown, writer?: 'tenant'): EventsResponse | string {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    return `it must answer an object { statusCode, headers, body }, not ${result === null ? 'null' : Array.isArray(result) ? 'an array' : typeof result}`;
  }
  const {
    statusCode = 200,
    headers = {},
    body,
    isBase64Encoded = false,
  } = result as Record<string, unknown>;
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599
  ) {
    return `"statusCode" must be an integer from 100 to 599 (got ${showValue(statusCode)})`;
  }
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    return '"headers" must be an object of strings';
  }
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') return `header "${name}" must be a string (got ${typeof value})`;
    const lower = name.toLowerCase();
    if (DROPPED_HEADERS.has(lower)) continue;
    if (writer === 'tenant' && tenantMayNotSet(lower)) continue;
    const problem = headerProblem(lower, value);
    if (problem) return problem;
    out[lower] = value;
  }
  if (body !== undefined && typeof body !== 'string') {
    return `"body" must be a string (got ${typeof body}); serialise objects yourself`;
  }
  if (typeof isBase64Encoded !== 'boolean') return '"isBase64Encoded" must be a boolean';
  if (isBase64Encoded && body !== undefined && !isBase64(body)) {
    return '"body" is marked isBase64Encoded but is not base64';
  }
  return {
    status: statusCode,
    headers: out,
    body: body === undefined ? undefined : isBase64Encoded ? Buffer.from(body, 'base64') : body,
  };
}
