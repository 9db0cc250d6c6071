import { parseCloudEvent, withExtension } from '../events/cloudevent';
import { withoutGatewayExtensions } from '../events/gateway-extensions';
import { isValidSpace } from '../model/checks';
import type { CloudEvent } from '../model/cloud-event';
import { refuseReservedType } from '../model/system-events';
import type { AcceptedEvent } from '../plugins/accepted-event';
import type { IntakeVia } from '../plugins/intake-plugin';
import type { AcceptTrace } from '../tracing/accept-trace';
import type { GatewayTracing, TraceSource } from '../tracing/gateway-tracing';
import { defaultTarget, emitTarget, type EmitTarget } from './emit-target';
import type { Outcomes } from './outcomes';

/** Only this module makes an {@link Accepted}: nothing enters the pipeline unparsed. */
const ACCEPT = Symbol('accept');

/**
 * An event past the pipeline's first stage: parsed once, with the gateway's limits (data depth,
 * hop count, reserved types), and its space, method and path checked. Only {@link AcceptStage}
 * makes one; the screen stage takes nothing else.
 */
export class Accepted implements AcceptedEvent {
  /** @internal */
  constructor(
    token: typeof ACCEPT,
    readonly event: CloudEvent,
    readonly space: string,
    readonly method: string,
    readonly path: string,
    readonly via: IntakeVia,
    /** Its acceptance span, when the gateway traces. */
    readonly trace?: AcceptTrace,
  ) {
    if (token !== ACCEPT) throw new TypeError('Accepted events are made by the accept stage.');
  }

  /** The same accepted event with one extension set (or removed): the gateway's own marks. */
  withExtension(name: string, value: string | undefined): Accepted {
    const event = withExtension(this.event, name, value);
    return new Accepted(ACCEPT, event, this.space, this.method, this.path, this.via, this.trace);
  }
}

/** What the accept stage needs: the gateway's limits. */
export interface AcceptDeps {
  readonly defaultSpace: string;
  /** Deepest nesting of event data. */
  readonly maxDataDepth: number;
  /** Most times an event may come back through the gateway (its `hopcount`). */
  readonly maxHops: number;
  readonly outcomes: Outcomes;
  /** The gateway's tracing, when it traces. */
  readonly tracing?: GatewayTracing;
}

/** Where an event is sent, as a caller gives it (defaults: the gateway's space, `POST`, `/`). */
export interface AcceptTarget {
  space?: string;
  method?: string;
  path?: string;
}

/**
 * The pipeline's first stage, the same for every way in (`emit`, the Events API, replay): it
 * parses the event once with the gateway's limits, counts its hop (refusing a loop before any
 * plugin sees it), refuses the types only the gateway emits, and checks where it goes.
 */
export class AcceptStage {
  private readonly defaults: EmitTarget;

  constructor(private readonly deps: AcceptDeps) {
    this.defaults = defaultTarget(deps.defaultSpace);
  }

  /**
   * Accepts one event, or throws (ValidationError, HopLimitError), counted and reported.
   * `untrusted`: it comes from outside the process (the Events API, an archive), so the
   * extensions only the gateway sets are removed from it. `trace`: where its trace comes from
   * besides the caller's active context (an HTTP request's headers, a replay), when traced.
   * @example
   * ```ts
   * const accepted = stage.accept(body, { path: '/orders' }, 'http', 'Events API', true);
   * ```
   */
  accept(
    input: unknown,
    target: AcceptTarget,
    via: IntakeVia,
    what = 'emit(event, options)',
    untrusted = false,
    trace?: TraceSource,
  ): Accepted {
    const where = this.where(input, target, what);
    let event = this.event(input, target);
    if (untrusted) event = withoutGatewayExtensions(event);
    const span = this.deps.tracing?.accepting(event, where.space, via, trace);
    return new Accepted(ACCEPT, event, where.space, where.method, where.path, via, span);
  }

  /**
   * The first half of {@link accept}: where `input` goes, checked (the shared defaults when
   * `target` names nothing). Throws ValidationError, counted. With {@link event}, the whole stage
   * for a caller that routes at once and is not traced (`emit` without screening plugins), which
   * then makes no Accepted.
   */
  where(input: unknown, target: AcceptTarget, what = 'emit(event, options)'): EmitTarget {
    try {
      return emitTarget(target, this.defaults, what);
    } catch (error) {
      this.rejected(error, input, target);
      throw error;
    }
  }

  /** The second half of {@link accept}: the event parsed with the gateway's limits, or a counted throw. */
  event(input: unknown, target: AcceptTarget): CloudEvent {
    try {
      const event = parseCloudEvent(input, this.deps.maxDataDepth, this.deps.maxHops);
      refuseReservedType(event);
      return event;
    } catch (error) {
      this.rejected(error, input, target);
      throw error;
    }
  }

  private rejected(error: unknown, input: unknown, target: AcceptTarget): void {
    const space = target?.space;
    this.deps.outcomes.rejectedAtAccept(
      error,
      input,
      typeof space === 'string' && isValidSpace(space) ? space : this.deps.defaultSpace,
    );
  }
}
