import { hideSecrets } from '../../../model/function-secrets';
import { InvocationError } from '../../../errors';
import { describeError } from '../../../model/describe-error';
import type { FunctionRecord } from '../../../model/function';

/** Error names AWS uses for throttling and passing trouble: worth another attempt. */
const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'KMSThrottlingException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServiceException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'EC2ThrottledException',
  'ResourceConflictException',
  'RequestThrottled',
  'SlowDown',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** Network errors (no answer at all): the next attempt may get through. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** What the SDK attaches to its errors. */
interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/**
 * Turns an SDK failure into an InvocationError: throttling, 5xx and network errors may pass
 * (retryable); anything else (wrong credentials, a missing queue or function, a bad request) is
 * final. The message names the AWS error and never carries the function's credentials.
 */
export function awsFailure(fn: FunctionRecord, error: unknown): InvocationError {
  if (error instanceof InvocationError) return error;
  let name = 'Error';
  let status: number | undefined;
  let retryable = false;
  try {
    const shape = (error ?? {}) as SdkErrorShape;
    if (typeof shape.name === 'string') name = shape.name;
    const code = typeof shape.code === 'string' ? shape.code : undefined;
    const httpStatus = shape.$metadata?.httpStatusCode;
    status = typeof httpStatus === 'number' ? httpStatus : undefined;
    retryable =
      shape.$retryable !== undefined ||
      RETRYABLE_NAMES.has(name) ||
      (status !== undefined && (status >= 500 || status === 429)) ||
      (status === undefined && code !== undefined && NETWORK_CODES.has(code)) ||
      name === 'AbortError';
  } catch {
    // A hostile value: described below, final.
  }
  const described = describeError(error);
  const shown = hideSecrets(described, fn);
  return new InvocationError(
    `Function "${fn.functionId}" (${fn.type}) failed: ${name === 'Error' ? '' : `${name}: `}${shown}`,
    {
      retryable,
      // An answer that echoed a credential is not kept: the error may be logged whole.
      ...(shown === described ? { cause: error } : {}),
      ...(status !== undefined ? { statusCode: status } : {}),
      resource: 'function',
      id: fn.functionId,
      space: fn.space,
    },
  );
}
