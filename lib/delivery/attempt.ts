import { InvocationError } from '../errors';
import type { FunctionRecord, LocalHandler } from '../model/function';

/** The abort reason of a timed-out attempt. */
export class TimeoutSignal extends Error {}

/**
 * What a function's failure becomes: an InvocationError as is; anything else wrapped, retryable
 * unless it says `retryable: false`.
 */
export function invocationFailure(
  fn: FunctionRecord,
  space: string,
  error: unknown,
): InvocationError {
  if (error instanceof InvocationError) return error;
  const err = error as Error & { retryable?: boolean };
  const verb = fn.type === 'local' ? 'threw' : 'failed';
  return new InvocationError(
    `Function "${fn.functionId}" ${verb}: ${err?.message ?? String(error)}`,
    {
      retryable: err?.retryable !== false,
      cause: error,
      resource: 'function',
      id: fn.functionId,
      space,
    },
  );
}

/**
 * One attempt of a delivery, and the context its provider sees. The AbortController is created
 * only if someone reads `signal`: most local handlers never do, and an AbortController (an
 * EventTarget) costs more than the rest of a local delivery.
 */
export class Attempt {
  private controller: AbortController | undefined;
  /** Set once the attempt has an outcome; later settlements are ignored. */
  settled = false;
  /** When the attempt times out (performance.now() ms); set while it awaits a promise. */
  deadline = Infinity;
  /** Why the attempt was cut short (timeout or close), when it was. */
  abortReason: Error | undefined;

  constructor(
    /** The space of the delivery. */
    readonly space: string,
    private readonly fn: FunctionRecord,
    /** This attempt's timeout, in ms. */
    readonly timeout: number,
    /** 1 for the first attempt. */
    readonly attempt: number,
    /** The handler bound here, for a local function. */
    readonly localHandler: LocalHandler | undefined,
    /** performance.now() when the attempt started. */
    readonly startedAt: number,
  ) {}

  /** The function being invoked. */
  get functionId(): string {
    return this.fn.functionId;
  }
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.abortReason && !this.controller.signal.aborted)
      this.controller.abort(this.abortReason);
    return this.controller.signal;
  }

  abort(reason: Error): void {
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}
