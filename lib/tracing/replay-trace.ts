import type { Span } from '@opentelemetry/api';
import { DeliveryTrace, type TraceParts } from './delivery-trace';
import { spanFailed } from './span-failed';

/**
 * A replay's span: the acceptance spans of the events it emits again are its children (so one
 * trace shows the replay whole; each event's original trace is linked through its
 * `traceparent` extension, when it has one).
 * @example
 * ```ts
 * const trace = tracing.replaying({});
 * trace.end(await replay(host, options));
 * ```
 */
export class ReplayTrace extends DeliveryTrace {
  /** @internal */
  constructor(
    parts: TraceParts,
    private readonly span: Span,
  ) {
    super(parts);
  }

  /** Ends the span with the replay's totals, or as failed. */
  end(totals: object | undefined, error?: unknown): void {
    if (error !== undefined) return spanFailed(this.span, error);
    for (const [name, value] of Object.entries(totals ?? {})) {
      if (typeof value === 'number' || typeof value === 'string') {
        const key = name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
        this.span.setAttribute(`event_gateway.replay.${key}`, value);
      }
    }
    this.span.end();
  }
}
