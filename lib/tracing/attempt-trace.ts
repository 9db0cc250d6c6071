import type { Span } from '@opentelemetry/api';
import type { CloudEvent } from '../model/cloud-event';
import { withExtension } from '../events/cloudevent';
import { spanFailed } from './span-failed';

/** How a delivery attempt ended, as its span says (`event_gateway.outcome`). */
export type AttemptOutcome = 'delivered' | 'retrying' | 'dead-lettered' | 'abandoned';

/**
 * One delivery attempt's span, and the trace context its function receives: the `traceparent`
 * (and `tracestate`) of this span, as an HTTP header (the http provider sets it) and as the
 * CloudEvents distributed-tracing extension of the event delivered (`event`).
 * @example
 * ```ts
 * const attempt = delivery.trace.attempt(delivery, 1); // provider.invoke(fn, attempt.event, ...)
 * attempt.end('delivered', undefined, 200);
 * ```
 */
export class AttemptTrace {
  /** The event as delivered in this attempt: with this attempt's `traceparent` extension. */
  readonly event: CloudEvent;
  /** The status the function answered with, when its provider tells (an HTTP status). */
  status: number | undefined = undefined;

  /** @internal */
  constructor(
    private readonly span: Span,
    event: CloudEvent,
    /** This attempt's W3C `traceparent`. */
    readonly traceparent: string,
    /** The `tracestate` that goes with it, if the trace has one. */
    readonly tracestate: string | undefined,
    private readonly http: boolean,
  ) {
    const marked = withExtension(event, 'traceparent', traceparent);
    this.event = withExtension(marked, 'tracestate', tracestate);
  }

  /**
   * Ends the span with the attempt's outcome: its HTTP status when the function answered one,
   * and for a failure the error (its `code` or name as `error.type`).
   */
  end(outcome: AttemptOutcome, error?: Error, status?: number): void {
    const { span } = this;
    span.setAttribute('event_gateway.outcome', outcome);
    status ??= this.status;
    if (status !== undefined && this.http) span.setAttribute('http.response.status_code', status);
    if (error) spanFailed(span, error);
    else span.end();
  }
}
