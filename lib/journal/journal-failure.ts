import { GatewayClosedError, JournalUnavailableError, type GatewayError } from '../errors';
import { describeError } from '../model/describe-error';

/**
 * What a caller sees of a journal's failure: JournalUnavailableError (HTTP 503), whatever the
 * journal threw (a third-party journal, or a library under one, may throw anything), so that an
 * emit or the Events API never answers a raw error or a 500 for it. `doing` says what failed.
 * A gateway closing stays GatewayClosedError.
 */
export function journalFailure(error: unknown, doing: string): GatewayError {
  if (error instanceof JournalUnavailableError || error instanceof GatewayClosedError) {
    return error;
  }
  return new JournalUnavailableError(`The journal ${doing}: ${describeError(error)}`, {
    cause: error,
  });
}
