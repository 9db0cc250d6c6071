import type { EmitOptions, EmitResult } from '../pipeline/emit-options';
import type { CloudEvent } from '../model/cloud-event';
import type { AuthorizerHost } from '../intake/authorize-event';
import type { IntakeVia } from '../plugins/intake-plugin';
import type { CorsRecord } from '../model/cors';
import type { EventTypeRecord } from '../model/event-type';

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
  /** Passes an event through the intake plugins (see `Gateway.admit`). @internal */
  admit(
    event: CloudEvent,
    where: { space: string; method: string; path: string },
    via: IntakeVia,
  ): Promise<CloudEvent>;
  /** Emits an event that came `via` the Events API; `admitted` when it passed `admit`. @internal */
  emitVia(
    event: CloudEvent,
    options: EmitOptions,
    via: IntakeVia,
    admitted?: boolean,
  ): Promise<EmitResult>;
  /** The sync subscription that answers a request, if any. @internal */
  syncRoute(space: string, eventType: string, method: string, path: string): SyncRoute | undefined;
  /** The CORS configuration of a request's method and path, if any. @internal */
  corsFor(space: string, method: string, path: string): CorsRecord | undefined;
  /** The event type, or undefined. @internal */
  findEventType(space: string, name: string): EventTypeRecord | undefined;
}
