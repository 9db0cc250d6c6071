import type { InvocationError } from '../errors';
import type { CloudEvent } from '../events/cloudevent';
import type { FunctionRecord } from '../model/function';
import type { RetryPolicy } from '../model/retry-options';
import type { SubscriptionRecord } from '../model/subscription';

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

/** A delivery that failed for good, handed to the `onDeadLetter` hook. */
export interface DeadLetter {
  readonly space: string;
  readonly event: CloudEvent;
  readonly subscriptionId: string;
  readonly functionId: string;
  /** Why it failed, in words. */
  readonly reason: string;
  /** The last status the function answered, if any. */
  readonly lastStatus?: number;
  readonly attempts: number;
  readonly error: InvocationError;
}
