import type { DeliveryOutcome } from '../delivery/delivery';

/** Options of `emit`. */
export interface EmitOptions {
  /** @default the gateway's `space` option */
  space?: string;
  /** The path the event arrived at; async subscriptions match it. @default '/' */
  path?: string;
  /** The method it arrived with; async subscriptions match it. @default 'POST' */
  method?: string;
  /** Resolve only once every delivery finished, with each one's outcome. @default false */
  wait?: boolean;
}

/**
 * The options of an `emit` that names none: one shared frozen object, so that the common emit
 * allocates no empty one.
 */
export const NO_EMIT_OPTIONS: EmitOptions = Object.freeze({});

/** What `emit` resolves with. */
export interface EmitResult {
  /** The event's `id`. */
  readonly eventId: string;
  readonly space: string;
  /** Deliveries accepted (one per matching subscription). */
  readonly accepted: number;
  /** With `wait: true`: each delivery's outcome, in subscription order. */
  readonly outcomes?: DeliveryOutcome[];
}
