import { exponentialDelay, type ExponentialDelayOptions } from '../model/exponential-delay';

/**
 * How soon the configuration cache relists and watches again after a watch ended, for every
 * store alike. At once after a watch that applied a change or stayed up for `maxDelay`: a real
 * reconnect must not slow propagation. After watches in a row that ended sooner without applying
 * anything, an exponential backoff with full jitter (`initialDelay` doubling to `maxDelay`): a
 * store whose watches end as soon as they open (a flapping proxy, a hostile endpoint, a custom
 * store's bug) otherwise had the cache relist hundreds of thousands of times a second.
 *
 * @example
 * ```ts
 * const pacer = new RewatchPacer({ initialDelay: 100, maxDelay: 5000 });
 * setTimeout(relist, pacer.ended(openedAt, applied));
 * ```
 */
export class RewatchPacer {
  private quickEnds = 0;

  constructor(private readonly backoff: Omit<ExponentialDelayOptions, 'jitter'>) {}

  /** Watches in a row that ended quickly without applying a change (0: the last one was fine). */
  get inARow(): number {
    return this.quickEnds;
  }

  /**
   * A watch opened at `openedAt` (ms since the epoch) ended on the store's side; `applied`: it
   * applied at least one change. Returns the ms to wait before relisting (0: at once).
   */
  ended(openedAt: number, applied: boolean): number {
    if (applied || Date.now() - openedAt >= this.backoff.maxDelay) {
      this.quickEnds = 0;
      return 0;
    }
    return exponentialDelay(this.quickEnds++, this.backoff);
  }

  /** A watch proved itself (it applied a change): the next end relists at once. */
  reset(): void {
    this.quickEnds = 0;
  }
}
