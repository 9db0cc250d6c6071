import type { CloudEvent } from '../model/cloud-event';
import type { FunctionRecord, LocalHandler } from '../model/function';

/** What a provider gets besides the function and the event. */
export interface InvocationContext {
  /** The space of the delivery. */
  readonly space: string;
  /** The function being invoked. */
  readonly functionId: string;
  /**
   * Aborted when the attempt times out or the gateway closes. Pass it on to any I/O. (Created on
   * first access: an attempt that never reads it costs no AbortController.)
   */
  readonly signal: AbortSignal;
  /** This attempt's timeout, in ms. */
  readonly timeout: number;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** For `local` functions: the handler bound on this instance, if any. */
  readonly localHandler?: LocalHandler;
  /**
   * This attempt's W3C `traceparent`, when the gateway traces: pass it on to the function (the
   * http provider sends it as a header; the event has it as its `traceparent` extension too).
   */
  readonly traceparent?: string;
  /** The `tracestate` that goes with `traceparent`, if the trace has one. */
  readonly tracestate?: string;
  /**
   * Set by a provider to the status the function answered with (an HTTP status): the attempt's
   * span reports it.
   */
  statusCode?: number;
}

/**
 * Delivers events to one type of function. Built in: `http` and `local`; pass others (AWS, a
 * queue, anything) in `createGateway(store, { providers: { type: provider } })`.
 *
 * @example
 * ```ts
 * const sqs: Provider = {
 *   validate: (config) => ({ queueUrl: String(config.queueUrl), region: String(config.region) }),
 *   invoke: async (fn, event, { signal }) => sendToQueue(fn.provider.queueUrl, event, signal),
 * };
 * ```
 */
export interface Provider {
  /**
   * Checks a function's `provider` configuration at registration and returns it normalised;
   * throws (an Error whose message becomes the validation error's detail) when it is wrong.
   */
  validate?(config: Record<string, unknown>): Record<string, string | number | boolean>;
  /**
   * Delivers the event; returns the function's result, or a promise of it. Throw (or reject with)
   * an {@link InvocationError} to say whether a failure may succeed later (`retryable`); any other
   * error counts as retryable. The gateway enforces the timeout even if the provider ignores
   * `signal`.
   */
  invoke(fn: FunctionRecord, event: CloudEvent, context: InvocationContext): unknown;
  /** Releases connections. Called by the gateway's `close()`. */
  close?(): Promise<void>;
}
