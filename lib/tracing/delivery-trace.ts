import type { Context, Tracer } from '@opentelemetry/api';
import type { CloudEvent } from '../model/cloud-event';
import { AttemptTrace } from './attempt-trace';
import { formatTraceparent } from './traceparent';

/** What an attempt's span says of its delivery (a structural view of the delivery layer's). */
export interface TracedDelivery {
  readonly space: string;
  readonly event: CloudEvent;
  readonly fn: { readonly functionId: string; readonly type: string };
  readonly subscription: { readonly subscriptionId: string };
  readonly deliveryId?: string;
}

/** SpanKind.CLIENT and INTERNAL, without loading the API's enum here. */
const CLIENT = 2;
const INTERNAL = 0;

/** What a trace is made of: the tracer, and its span as a context and as W3C text. */
export interface TraceParts {
  readonly tracer: Tracer;
  /** The context attempts (or replayed events) are children of. */
  readonly context: Context;
  /** Its span's W3C `traceparent`, as the journal keeps it. */
  readonly traceparent: string;
  /** Its `tracestate`, if the trace has one. */
  readonly tracestate: string | undefined;
}

/**
 * The trace an event's deliveries belong to: each attempt is a child span of its parent (the
 * acceptance span, or for a delivery resumed from a journal, that span as the journal kept it).
 * Shared by every delivery of one event (fan-out): one object per event, none per delivery.
 * @example
 * ```ts
 * for (const task of tasks) task.trace = acceptTrace; // then, per attempt: task.trace.attempt(task, n)
 * ```
 */
export class DeliveryTrace {
  protected readonly tracer: Tracer;
  /** The context attempts are children of. */
  readonly context: Context;
  /** The parent's W3C `traceparent`, as the journal keeps it. */
  readonly traceparent: string;
  /** The parent's `tracestate`, if the trace has one. */
  readonly tracestate: string | undefined;

  /** @internal */
  constructor(parts: TraceParts) {
    this.tracer = parts.tracer;
    this.context = parts.context;
    this.traceparent = parts.traceparent;
    this.tracestate = parts.tracestate;
  }

  /**
   * Starts the span of a delivery's attempt `attempt` (1 for the first), with the messaging
   * semantic conventions (the function as destination) and, for an http function, HTTP's.
   */
  attempt(delivery: TracedDelivery, attempt: number): AttemptTrace {
    const { fn, event } = delivery;
    const http = fn.type === 'http';
    // What a sampler may decide on is given at the start; the rest only to a span that records
    // (an unsampled span is not worth the attributes' checks and garbage).
    const span = this.tracer.startSpan(
      `deliver ${fn.functionId}`,
      {
        kind: fn.type === 'local' ? INTERNAL : CLIENT,
        attributes: {
          'messaging.system': 'event-gateway',
          'messaging.operation.type': 'send',
          'messaging.destination.name': fn.functionId,
          'event_gateway.attempt': attempt,
        },
      },
      this.context,
    );
    if (span.isRecording()) {
      span.setAttributes({
        'messaging.operation.name': 'deliver',
        'messaging.message.id': event.id,
        'cloudevents.event_id': event.id,
        'cloudevents.event_type': event.type,
        'event_gateway.space': delivery.space,
        'event_gateway.subscription_id': delivery.subscription.subscriptionId,
        'event_gateway.function_type': fn.type,
      });
      if (delivery.deliveryId !== undefined) {
        span.setAttribute('event_gateway.delivery_id', delivery.deliveryId);
      }
      if (http) {
        span.setAttribute('http.request.method', 'POST');
        if (attempt > 1) span.setAttribute('http.request.resend_count', attempt - 1);
      }
    }
    const spanContext = span.spanContext();
    return new AttemptTrace(
      span,
      event,
      formatTraceparent(spanContext),
      spanContext.traceState?.serialize() || this.tracestate,
      http,
    );
  }
}
