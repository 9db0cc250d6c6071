import { GatewayError } from '../errors';
import { describeError } from '../model/describe-error';
import type { EventsResponse } from './http-types';
import { BodyTooLargeError } from './read-body';

/** What every failure the client may not see the details of says. */
export const INTERNAL_ERROR = 'Internal error. Please check logs.';

/**
 * The answer to a request that failed: 413 for a body past the limit; a GatewayError's own status
 * and message for a client error or overload (503: not ready, closed); otherwise 500 saying
 * nothing, the failure going to `report` as "`api` failed a request".
 * @example
 * ```ts
 * catch (error) {
 *   return failureResponse(error, 'The Events API', (e) => gateway.reportError(e), errorResponse);
 * }
 * ```
 */
export function failureResponse<R extends EventsResponse>(
  error: unknown,
  api: string,
  report: (error: Error) => void,
  respond: (status: number, message: string) => R,
): R {
  if (error instanceof BodyTooLargeError) return respond(413, error.message);
  if (error instanceof GatewayError && (error.status < 500 || error.status === 503)) {
    return respond(error.status, error.message);
  }
  report(new Error(`${api} failed a request: ${describeError(error)}`, { cause: error }));
  return respond(500, INTERNAL_ERROR);
}
