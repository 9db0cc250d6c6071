import { MAX_TIMER_MS } from './checks';
import { exponentialDelay, type ExponentialDelayOptions } from './exponential-delay';

/**
 * How soon a watch may open again after one ended, for an owner that relists and watches again
 * whenever its watch ends: the etcd store (25 ms doubling to 1 s, no jitter) and the configuration
 * cache, for every store (`retryDelay` doubling to `maxRetryDelay`, full jitter). At once after a
 * watch that delivered a change or stayed up `maxDelay`: a real reconnect must not slow
 * propagation. After watches in a row that ended sooner without delivering anything, the backoff of
 * {@link exponentialDelay}: against a peer that ends every watch as soon as it opens (a flapping
 * proxy, a hostile endpoint, a custom store's bug) the loop otherwise spun at hundreds of thousands
 * of rounds a second.
 *
 * @example
 * ```ts
 * const pacer = new RewatchPacer({ initialDelay: 100, maxDelay: 5000 });
 * const cancel = pacer.opened(() => (lastError = undefined));
 * // ...the watch ends on the store's side:
 * cancel();
 * setTimeout(relist, pacer.ended(openedAt, applied));
 * ```
 */
export class RewatchPacer {
  private quickEnds = 0;
  private next = 0;

  /** `maxDelay` is also how long a watch must stay up to count as working. */
  constructor(private readonly backoff: ExponentialDelayOptions) {}

  /** Watches in a row that ended quickly without a change (0: the last one was fine). */
  get inARow(): number {
    return this.quickEnds;
  }

  /** How long a watch must stay up (ms) to count as working: the backoff's `maxDelay`. */
  get provenAfter(): number {
    return this.backoff.maxDelay;
  }

  /**
   * A watch opened at `openedAt` (ms since the epoch) ended, not closed by its owner; `changed`:
   * it delivered at least one change. Returns the ms to wait before the next watch (0: at once),
   * which {@link wait} answers too until the next end.
   */
  ended(openedAt: number, changed: boolean): number {
    if (changed || Date.now() - openedAt >= this.provenAfter) this.reset();
    else this.next = exponentialDelay(this.quickEnds++, this.backoff);
    return this.next;
  }

  /** The ms the next watch waits before it opens (0: none): what the last {@link ended} said. */
  wait(): number {
    return this.next;
  }

  /** A watch proved itself (it delivered a change, or stayed up): the next end rewatches at once. */
  reset(): void {
    this.quickEnds = 0;
    this.next = 0;
  }

  /**
   * A watch opened now: once it has stayed up {@link provenAfter} ms it counts as working, the
   * pacer resets and `onProven` runs (a quiet watch proves itself as well as a busy one). Returns
   * the cancel, for the watch's end or close. The timer does not hold the process open.
   */
  opened(onProven?: () => void): () => void {
    // Past the timer range a timeout fires at once: every watch would count as proven.
    if (!(this.provenAfter <= MAX_TIMER_MS)) return () => undefined;
    const timer = setTimeout(() => {
      this.reset();
      onProven?.();
    }, this.provenAfter);
    timer.unref();
    return () => clearTimeout(timer);
  }
}
