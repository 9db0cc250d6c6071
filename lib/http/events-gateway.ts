import type { AuthorizerHost } from '../events/authorize-event';
import type { CorsRecord } from '../model/cors';
import type { EventTypeRecord } from '../model/event-type';
import type { EmitOptions, EmitResult } from '../pipeline/emit-options';
import type { Admitted } from '../pipeline/screen';
import type { AcceptedEvent } from '../plugins/accepted-event';
import type { IntakeVia } from '../plugins/intake-plugin';
import type { CloudEvent } from '../model/cloud-event';
import type { GatewayTracing } from '../tracing/gateway-tracing';
import type { TraceCarrier } from '../tracing/traceparent';

/** A sync subscription's answer to a request: the function and the route's parameters. */
export interface SyncRoute {
  readonly functionId: string;
  readonly params: Record<string, string>;
  /** `'tenant'` when a tenant wrote the function: its answer may not set the origin's cookies. */
  readonly writer?: 'tenant';
}

/**
 * What the Events API needs of a gateway: a small surface, so that the HTTP layer depends on
 * neither the Gateway class nor its internals. A {@link Gateway} is one.
 */
export interface EventsGateway extends AuthorizerHost {
  readonly options: { readonly space: string };
  /** Emits an event (see `Gateway.emit`). */
  emit(event: CloudEvent, options: EmitOptions): Promise<EmitResult>;
  /** Accepts an event from outside (see `Gateway.accept`). @internal */
  accept(
    input: unknown,
    where: { space: string; method: string; path: string },
    via: IntakeVia,
    trace?: TraceCarrier,
  ): AcceptedEvent;
  /** The gateway's tracing, when it traces. @internal */
  readonly tracing?: GatewayTracing;
  /** Passes accepted events through the intake plugins, whole (see `Gateway.screen`). @internal */
  screen(accepted: readonly AcceptedEvent[]): Promise<Admitted[]>;
  /** Routes and delivers an admitted event (see `Gateway.dispatch`). @internal */
  dispatch(admitted: Admitted): Promise<EmitResult>;
  /** The sync subscription that answers a request, if any. @internal */
  syncRoute(space: string, eventType: string, method: string, path: string): SyncRoute | undefined;
  /** The CORS configuration of a request's method and path, if any. @internal */
  corsFor(space: string, method: string, path: string): CorsRecord | undefined;
  /** The event type, or undefined. @internal */
  findEventType(space: string, name: string): EventTypeRecord | undefined;
}
