import type { Context, Link, Span, Tracer } from '@opentelemetry/api';
import type { CloudEvent } from '../model/cloud-event';
import { AcceptTrace } from './accept-trace';
import { DeliveryTrace, type TraceParts } from './delivery-trace';
import { globalTracerRegistered, loadOtelApi, type OtelApi } from './otel-api';
import { ReplayTrace } from './replay-trace';
import {
  formatTraceparent,
  parseTraceparent,
  tracestateOf,
  type ParsedTraceparent,
  type TraceCarrier,
} from './traceparent';
import type { TracerProviderLike, TracingOption } from './tracing-option';

/** SpanKind values, without loading the API's enum. */
const INTERNAL = 0;
const SERVER = 1;
const CONSUMER = 4;

/** Where an event's trace comes from besides the caller's active context. */
export type TraceSource = TraceCarrier | DeliveryTrace;

/**
 * A gateway's tracing, made once by {@link GatewayTracing.from} when it is on: each way in asks
 * it for the event's acceptance span, resumed deliveries for their trace, replay for its span.
 * Without it (tracing off) nothing is traced and nothing about tracing is allocated or loaded.
 * @example
 * ```ts
 * const span = GatewayTracing.from(options.tracing)?.accepting(event, space, 'http', headers);
 * ```
 */
export class GatewayTracing {
  private constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer,
  ) {}

  /**
   * The gateway's tracing for its `tracing` option, or undefined when it is off (see
   * {@link TracingOption}). Decided once, when the gateway is created.
   * @example
   * ```ts
   * const tracing = GatewayTracing.from(options.tracing);
   * ```
   */
  static from(option: TracingOption | undefined): GatewayTracing | undefined {
    if (option === false) return undefined;
    let api: OtelApi;
    if (option === undefined || option === null) {
      // Checked before anything is loaded: no provider, no require.
      if (!globalTracerRegistered()) return undefined;
      try {
        api = loadOtelApi('"tracing"');
      } catch {
        return undefined; // registered by a copy of the API this package cannot load
      }
      if (!hasProvider(api)) return undefined;
    } else {
      api = loadOtelApi('"tracing"');
    }
    const given = typeof option === 'object' && option !== null ? option.tracerProvider : undefined;
    const provider: TracerProviderLike = given ?? api.trace.getTracerProvider();
    return new GatewayTracing(api, provider.getTracer('event-gateway') as Tracer);
  }

  /**
   * Starts an event's acceptance span. Its parent: `source` when it is a trace of the gateway's
   * own (a replay's), else the caller's active span (`emit`, or a host's own HTTP
   * instrumentation), else `source`'s `traceparent` (the Events API's request headers), else the
   * event's `traceparent` extension. That extension, when it names another span, is linked.
   */
  accepting(event: CloudEvent, space: string, via: string, source?: TraceSource): AcceptTrace {
    const { api } = this;
    const fromEvent = parseTraceparent(event.traceparent);
    let parent: Context;
    if (source instanceof DeliveryTrace) parent = source.context;
    else {
      parent = api.context.active();
      if (!api.trace.getSpanContext(parent)) {
        const header = source && parseTraceparent(source.traceparent);
        if (header) parent = this.remote(header, source && tracestateOf(source));
        else if (fromEvent) parent = this.remote(fromEvent, tracestateOf(event as TraceCarrier));
      }
    }
    const parentSpan = api.trace.getSpanContext(parent);
    const links: Link[] | undefined =
      fromEvent && fromEvent.spanId !== parentSpan?.spanId
        ? [{ context: { ...fromEvent, isRemote: true } }]
        : undefined;
    const span = this.tracer.startSpan(
      'accept',
      {
        kind: via === 'http' || via === 'batch' ? SERVER : via === 'source' ? CONSUMER : INTERNAL,
        links,
        // What a sampler may decide on; the rest only to a span that records.
        attributes: {
          'messaging.system': 'event-gateway',
          'messaging.operation.type': 'receive',
          'cloudevents.event_type': event.type,
          'event_gateway.space': space,
          'event_gateway.via': via,
        },
      },
      parent,
    );
    if (span.isRecording()) {
      span.setAttributes({
        'messaging.operation.name': 'accept',
        'messaging.message.id': event.id,
        'cloudevents.event_id': event.id,
        'cloudevents.event_source': event.source,
        'cloudevents.event_spec_version': event.specversion,
      });
    }
    return new AcceptTrace(this.parts(parent, span), span);
  }

  /**
   * The trace of a delivery resumed from a journal: its attempts are children of the acceptance
   * span the journal kept (`traceparent`, `tracestate`), so it stays in its trace across a
   * restart. Undefined when the journal kept none (an older record) or not a valid one.
   */
  resumed(traceparent: unknown, tracestate: unknown): DeliveryTrace | undefined {
    const parsed = parseTraceparent(traceparent);
    if (!parsed) return undefined;
    const state = tracestateOf({ tracestate });
    const context = this.remote(parsed, state);
    const { tracer } = this;
    return new DeliveryTrace({
      tracer,
      context,
      traceparent: traceparent as string,
      tracestate: state,
    });
  }

  /**
   * Starts a replay's span, a child of the caller's active span: pass it as the `source` of the
   * replayed events' acceptance spans, and end it with the replay's totals.
   * @example
   * ```ts
   * const trace = tracing.replaying({ 'event_gateway.replay.source': 'S3Archive' });
   * ```
   */
  replaying(attributes: Readonly<Record<string, string | number>>): ReplayTrace {
    const { api } = this;
    const parent = api.context.active();
    const span = this.tracer.startSpan('replay', { kind: INTERNAL, attributes }, parent);
    return new ReplayTrace(this.parts(parent, span), span);
  }

  /** A trace whose span is `span`, a child of `parent`. */
  private parts(parent: Context, span: Span): TraceParts {
    const { api, tracer } = this;
    const own = span.spanContext();
    return {
      tracer,
      context: api.trace.setSpan(parent, span),
      traceparent: formatTraceparent(own),
      tracestate: own.traceState?.serialize() || undefined,
    };
  }

  /** A context whose span is a remote one (from another process, or from before a restart). */
  private remote(span: ParsedTraceparent, tracestate: string | undefined): Context {
    const { api } = this;
    return api.trace.setSpanContext(api.ROOT_CONTEXT, {
      traceId: span.traceId,
      spanId: span.spanId,
      traceFlags: span.traceFlags,
      isRemote: true,
      ...(tracestate && { traceState: api.createTraceState(tracestate) }),
    });
  }
}

/**
 * True when the API's global tracer provider is a real one: the API hands out a proxy whose
 * delegate is its no-op provider until an SDK registers one.
 */
function hasProvider(api: OtelApi): boolean {
  const provider = api.trace.getTracerProvider();
  if (!(provider instanceof api.ProxyTracerProvider)) return true;
  // A fresh proxy's delegate is the API's one no-op provider.
  return provider.getDelegate() !== new api.ProxyTracerProvider().getDelegate();
}
