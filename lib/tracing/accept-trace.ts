import type { Span } from '@opentelemetry/api';
import { DeliveryTrace, type TraceParts } from './delivery-trace';
import { spanFailed } from './span-failed';

/**
 * An event's acceptance span (accept, plugin screening, routing, journaling, until its
 * deliveries are accepted) and the trace its deliveries' attempts are children of. Ended once,
 * by whichever comes first: its dispatch settled, a plugin refused it, or its way in gave up on it.
 * @example
 * ```ts
 * const trace = tracing.accepting(event, 'default', 'emit');
 * return trace.settle(dispatched);
 * ```
 */
export class AcceptTrace extends DeliveryTrace {
  private span: Span | undefined;

  /** @internal */
  constructor(parts: TraceParts, span: Span) {
    super(parts);
    this.span = span;
  }

  /** Ends the span as accepted, with how many deliveries were made. Idempotent. */
  accepted(deliveries: number): void {
    const span = this.span;
    if (!span) return;
    this.span = undefined;
    span.setAttribute('event_gateway.deliveries', deliveries);
    span.end();
  }

  /** Ends the span as refused or failed, with why. Idempotent. */
  failed(error: unknown): void {
    const span = this.span;
    if (!span) return;
    this.span = undefined;
    spanFailed(span, error);
  }

  /**
   * `dispatched` as it settles, the span ended with it: accepted with the number of deliveries,
   * or failed with the rejection.
   */
  settle<T extends { readonly accepted: number }>(dispatched: Promise<T>): Promise<T> {
    return dispatched.then(
      (result) => {
        this.accepted(result.accepted);
        return result;
      },
      (error: unknown) => {
        this.failed(error);
        throw error;
      },
    );
  }
}

/**
 * An accepted event's acceptance span, if it has one: for a way in that ends it itself, when it
 * gives up on the event before its dispatch (an authorizer's refusal, a batch cut short) or
 * never dispatches it (a dry run). Ending it twice is harmless.
 * @example
 * ```ts
 * for (const accepted of batch) acceptTraceOf(accepted)?.failed(refusal);
 * ```
 */
export function acceptTraceOf(accepted: unknown): AcceptTrace | undefined {
  const trace = (accepted as { trace?: unknown } | null)?.trace;
  return trace instanceof AcceptTrace ? trace : undefined;
}
