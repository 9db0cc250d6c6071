/** How often a source asks its server for its lag (a queue's count), in ms. */
export const LAG_INTERVAL_MS = 5000;

/**
 * A figure a source reads from its server now and then rather than on every `health()` or scrape
 * (a queue's message count, a topic's high watermarks): read at `start()` and every `every` ms on
 * an unref'd timer, one read at a time, so that the requests are bounded however often the figure
 * is looked at. A read that fails, gives no finite number, or has not answered within `timeout` ms
 * leaves it unknown (undefined) until one succeeds: a source whose credentials may not read the
 * figure still runs, without it, and a server that stops answering never leaves a stale figure
 * shown as current. A read that timed out still holds back the next until it settles (requests
 * never pile up on a stuck server), and its late answer is not taken.
 * @example
 * ```ts
 * const depth = new PeriodicReading(async () => (await channel.checkQueue('jobs')).messageCount);
 * depth.start();
 * depth.value; // 12, or undefined before the first read
 * ```
 */
export class PeriodicReading<T = number> {
  private timer: NodeJS.Timeout | undefined;
  /** Ends the read in flight as far as the figure goes: it is unknown past this. */
  private deadline: NodeJS.Timeout | undefined;
  private reading = false;
  private last: T | undefined;

  /**
   * @param read - reads the figure (undefined: unknown)
   * @param every - ms between reads @default 5000
   * @param timeout - ms a read may take before the figure is unknown @default `every`
   */
  constructor(
    private readonly read: () => Promise<T | undefined>,
    private readonly every = LAG_INTERVAL_MS,
    private readonly timeout = every,
  ) {}

  /** The last figure read, or undefined while none could be. */
  get value(): T | undefined {
    return this.last;
  }

  /** Reads now and then every `every` ms (again: reads now only). */
  start(): void {
    if (!this.timer) {
      this.timer = setInterval(() => this.refresh(), this.every);
      this.timer.unref();
    }
    this.refresh();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.deadline);
  }

  private refresh(): void {
    if (this.reading) return;
    this.reading = true;
    let timedOut = false;
    this.deadline = setTimeout(() => {
      timedOut = true;
      this.last = undefined;
    }, this.timeout);
    this.deadline.unref();
    // Async so that a read that throws at once is a failed read like any other.
    void (async () => this.read())()
      .then(
        (value) => {
          if (timedOut) return;
          this.last = typeof value === 'number' && !Number.isFinite(value) ? undefined : value;
        },
        () => {
          if (!timedOut) this.last = undefined;
        },
      )
      .finally(() => {
        clearTimeout(this.deadline);
        this.reading = false;
      });
  }
}
