import type { PatternMiss } from '../model/event-pattern';
import type { EmitOptions } from './emit-options';

/** What `explain` takes: the event, and where it would be emitted. */
export interface ExplainInput extends Omit<EmitOptions, 'wait'> {
  readonly event: unknown;
}

/** What `explain` finds: every candidate subscription, matched or not, and why not. */
export interface Explanation {
  readonly eventId: string;
  readonly eventType: string;
  readonly space: string;
  readonly method: string;
  readonly path: string;
  readonly subscriptions: readonly {
    readonly subscriptionId: string;
    readonly functionId: string;
    /** True when the event would be delivered to it. */
    readonly matched: boolean;
    /** For a miss: the first field and operator of its filter that failed. */
    readonly failed?: PatternMiss;
  }[];
}
