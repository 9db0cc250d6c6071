import { InvocationError } from '../errors';
import type { CloudEvent } from '../model/cloud-event';
import { describeError } from '../model/describe-error';
import type { FunctionRecord, LocalHandler } from '../model/function';
import type { AttemptTrace } from '../tracing/attempt-trace';
import type { Provider } from './provider';

/** The abort reason of a timed-out attempt. */
export class TimeoutSignal extends Error {}

/**
 * What a function's failure becomes: an InvocationError as is; anything else (any thrown value at
 * all) wrapped, retryable unless it says `retryable: false`.
 */
export function invocationFailure(
  fn: FunctionRecord,
  space: string,
  error: unknown,
): InvocationError {
  let retryable = true;
  try {
    if (error instanceof InvocationError) return error;
    retryable = (error as { retryable?: unknown })?.retryable !== false;
  } catch {
    // A revoked proxy or a getter that throws: a failure that says nothing about retrying.
  }
  const verb = fn.type === 'local' ? 'threw' : 'failed';
  return new InvocationError(`Function "${fn.functionId}" ${verb}: ${describeError(error)}`, {
    retryable,
    cause: error,
    resource: 'function',
    id: fn.functionId,
    space,
  });
}

/** The failure of an attempt that timed out (retryable: the next may be faster). */
export function timedOut(
  fn: FunctionRecord,
  space: string,
  timeout: number,
  cause?: unknown,
): InvocationError {
  return new InvocationError(`Function "${fn.functionId}" timed out after ${timeout} ms.`, {
    retryable: true,
    cause,
    resource: 'function',
    id: fn.functionId,
    space,
  });
}

/** The failure of a function whose type has no provider on this instance. */
export function noProvider(fn: FunctionRecord, space: string): InvocationError {
  return new InvocationError(
    `No provider for function type "${fn.type}" on this instance: pass one in createGateway(store, { providers }).`,
    { retryable: false, resource: 'function', id: fn.functionId, space },
  );
}

/**
 * Receives attempts' outcomes, exactly once per attempt: `failed` tells a thrown or rejected
 * value (whatever it is, `undefined` included) from a returned one; `key` is what the attempt
 * was started for (a delivery). One listener serves every attempt: a pending attempt costs the
 * two callbacks its promise needs and no closure besides.
 */
export interface AttemptListener<K> {
  attemptDone(key: K, attempt: Attempt, failed: boolean, value: unknown): void;
}

/**
 * Starts one attempt: the one path every delivery and direct call takes. Calls the provider and
 * reports its outcome to `listener` once, whatever the provider does: return a value, throw any
 * value, return a promise or a hostile thenable (one whose `then` throws or calls back twice).
 * Returns true when the outcome is pending: the caller must then enforce `attempt.deadline`.
 */
export function startAttempt<K>(
  provider: Provider | undefined,
  fn: FunctionRecord,
  event: CloudEvent,
  attempt: Attempt,
  listener: AttemptListener<K>,
  key: K,
): boolean {
  let outcome: unknown;
  let pending = false;
  try {
    if (!provider) throw noProvider(fn, attempt.space);
    outcome = provider.invoke(fn, event, attempt);
    pending =
      outcome !== null &&
      (typeof outcome === 'object' || typeof outcome === 'function') &&
      typeof (outcome as PromiseLike<unknown>).then === 'function';
  } catch (error) {
    listener.attemptDone(key, attempt, true, error);
    return false;
  }
  if (!pending) {
    listener.attemptDone(key, attempt, false, outcome);
    return false;
  }
  attempt.deadline = attempt.startedAt + attempt.timeout;
  // Promise.resolve adopts a thenable in a later job: a `then` that throws becomes a rejection.
  Promise.resolve(outcome as PromiseLike<unknown>).then(
    (value) => listener.attemptDone(key, attempt, false, value),
    (error: unknown) => listener.attemptDone(key, attempt, true, error),
  );
  return true;
}

/**
 * One attempt of a delivery, and the context its provider sees. The AbortController is created
 * only if someone reads `signal`: most local handlers never do, and an AbortController (an
 * EventTarget) costs more than the rest of a local delivery.
 */
export class Attempt {
  private controller: AbortController | undefined;
  private abortListener: (() => void) | undefined;
  /** Set once the attempt has an outcome; later settlements are ignored. */
  settled = false;
  /** When the attempt times out (performance.now() ms); set while it awaits a promise. */
  deadline = Infinity;
  /** Why the attempt was cut short (timeout or close), when it was. */
  abortReason: Error | undefined;
  /** Its span, when the gateway traces. @internal */
  trace: AttemptTrace | undefined = undefined;

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

  /** This attempt's W3C `traceparent`, when the gateway traces. */
  get traceparent(): string | undefined {
    return this.trace?.traceparent;
  }

  /** The `tracestate` that goes with `traceparent`, if the trace has one. */
  get tracestate(): string | undefined {
    return this.trace?.tracestate;
  }

  /**
   * The status the function answered with, if its provider tells (see InvocationContext): kept
   * by the attempt's span (an accessor, so that an untraced attempt carries no field for it).
   */
  get statusCode(): number | undefined {
    return this.trace?.status;
  }

  set statusCode(status: number | undefined) {
    if (this.trace) this.trace.status = status;
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.abortReason && !this.controller.signal.aborted)
      this.controller.abort(this.abortReason);
    return this.controller.signal;
  }

  /** True once the attempt was cut short. */
  get aborted(): boolean {
    return this.abortReason !== undefined;
  }

  /** The abort reason, for clients that read it like an AbortSignal's. */
  get reason(): Error | undefined {
    return this.abortReason;
  }

  /**
   * The attempt as an emitter-style abort signal (`once('abort')`, `removeListener`), which the
   * http provider watches in place of an AbortSignal, at a fraction of an AbortController's cost.
   */
  once(_event: 'abort', listener: () => void): void {
    this.abortListener = listener;
  }

  /** Same as `once`: an attempt aborts at most once. */
  on(event: 'abort', listener: () => void): void {
    this.once(event, listener);
  }

  removeListener(_event: 'abort', listener: () => void): void {
    if (this.abortListener === listener) this.abortListener = undefined;
  }

  abort(reason: Error): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
    const listener = this.abortListener;
    this.abortListener = undefined;
    listener?.();
  }
}
