import type { InvocationError } from '../errors';
import type { CloudEvent } from '../model/cloud-event';

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
