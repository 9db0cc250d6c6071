import type { ConfigCache } from '../cache/config-cache';
import type { Journal } from '../journal/journal';
import { describeError } from '../model/describe-error';
import type { Pipeline } from '../pipeline/pipeline';
import type { JournalHealth } from './gateway-types';

/**
 * A gateway's link to its journal: opened once the configuration (the deliveries' functions) is
 * loaded, so that what it hands back finds its functions; its state for `ready()`, `health()`
 * and `metrics()`. Deliveries whose function is not configured or bound yet wait for it (see
 * WaitingDeliveries).
 */
export class JournalLink {
  /** Settles once the journal is open and its unfinished deliveries resumed. */
  readonly opened: Promise<unknown>;
  private open = false;
  private error: string | undefined;

  constructor(
    readonly journal: Journal,
    cache: ConfigCache,
    private readonly pipeline: Pipeline,
  ) {
    this.opened = cache.ready().then(() =>
      pipeline.resume(journal).then(
        () => void (this.open = true),
        (error: unknown) => {
          this.error = describeError(error);
          throw error;
        },
      ),
    );
    this.opened.catch(() => undefined);
  }

  /** What `gateway.health().journal` reports. */
  health(): JournalHealth {
    const size = this.journal.size();
    const waiting = this.pipeline.waitingReport();
    const lastError = this.error ?? size.failure;
    return {
      entries: size.entries,
      damaged: size.damaged ?? 0,
      waiting: waiting.deliveries,
      ...(waiting.deliveries > 0 ? { waitingFor: waiting.functions } : {}),
      ...(lastError !== undefined ? { lastError } : {}),
    };
  }

  /** True once open, and while it records (as `ready()` is). */
  get ready(): boolean {
    return this.open && this.error === undefined && this.journal.size().failure === undefined;
  }

  /** The journal's gauges of `gateway.metrics()`. */
  metrics(): { journalEntries: number; journalDamaged: number; journalWaiting: number } {
    const size = this.journal.size();
    return {
      journalEntries: size.entries,
      journalDamaged: size.damaged ?? 0,
      journalWaiting: this.pipeline.waitingCount,
    };
  }
}
