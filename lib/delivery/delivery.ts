import type { InvocationError } from '../errors';
import type { CloudEvent } from '../model/cloud-event';
import type { FunctionRecord } from '../model/function';
import type { RetryPolicy } from '../model/retry-options';
import type { SubscriptionRecord } from '../model/subscription';
import type { DeliveryTrace } from '../tracing/delivery-trace';
import type { Attempt } from './attempt';
import type { Provider } from './provider';

/** One event to deliver to one subscription's function. */
export interface DeliveryTask {
  readonly space: string;
  readonly event: CloudEvent;
  readonly subscription: SubscriptionRecord;
  readonly fn: FunctionRecord;
  readonly retry: RetryPolicy;
  /** Each attempt's timeout, in ms. */
  readonly timeout: number;
  /** A delivery of a system event: it causes no further system events. */
  readonly system: boolean;
  /** Called once with the final outcome (for `emit(..., { wait: true })`). */
  readonly onSettled?: (outcome: DeliveryOutcome) => void;
}

/** One function's queue in the dispatcher: lanes are served in turn. */
export interface Lane {
  /** The function record the lane serves (a new record after an update gets a new lane). */
  readonly key: FunctionRecord;
  readonly queue: Delivery[];
  head: number;
  active: number;
  /** True while the lane is in the dispatcher's ready ring. */
  ready: boolean;
  /** The provider of the function's type (asked once: a record's type never changes). */
  readonly provider: Provider | undefined;
  /** The slots its space's deliveries hold, shared by the space's lanes. */
  readonly slots: SpaceSlots;
}

/** The delivery slots one space's attempts hold at once. */
export interface SpaceSlots {
  active: number;
}

/**
 * A task and its progress in the dispatcher, in one object: the one allocation a delivery costs
 * besides its attempts.
 */
export class Delivery implements DeliveryTask {
  readonly space: string;
  readonly event: CloudEvent;
  readonly subscription: SubscriptionRecord;
  /** Replaced before a retry when the function's configuration changed meanwhile. */
  fn: FunctionRecord;
  readonly retry: RetryPolicy;
  readonly timeout: number;
  readonly system: boolean;
  readonly onSettled: ((outcome: DeliveryOutcome) => void) | undefined;
  /** Set by the dispatcher when it accepts the delivery. */
  lane: Lane | undefined = undefined;
  attempts = 0;
  /** performance.now() when it was accepted. */
  firstAt = 0;
  /** The attempt running, if one is. */
  current: Attempt | undefined = undefined;
  retryTimer: NodeJS.Timeout | undefined = undefined;
  /** Its index in the dispatcher's running list while an attempt runs. */
  slot = -1;
  /** Taken back from a journal after a restart: its age predates this process. */
  restored = false;
  /** Its ID in the journal, when the gateway has one. */
  deliveryId: string | undefined = undefined;
  /** The trace its attempts belong to, when the gateway traces (shared by an event's deliveries). @internal */
  trace: DeliveryTrace | undefined = undefined;

  constructor(task: DeliveryTask) {
    this.space = task.space;
    this.event = task.event;
    this.subscription = task.subscription;
    this.fn = task.fn;
    this.retry = task.retry;
    this.timeout = task.timeout;
    this.system = task.system;
    this.onSettled = task.onSettled;
  }
}

/** How one delivery ended. */
export type DeliveryOutcome =
  | {
      readonly ok: true;
      readonly subscriptionId: string;
      readonly functionId: string;
      /** What the function answered. */
      readonly result: unknown;
      readonly attempts: number;
      /** From the first attempt's start to the end of the successful one, in ms. */
      readonly durationMs: number;
    }
  | {
      readonly ok: false;
      readonly subscriptionId: string;
      readonly functionId: string;
      /** The last attempt's error. */
      readonly error: InvocationError;
      readonly attempts: number;
      readonly durationMs: number;
    };
