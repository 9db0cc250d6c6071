/** How often a source asks its server for its lag (a queue's count), in ms. */
export const LAG_INTERVAL_MS = 5000;

/**
 * A figure a source reads from its server now and then rather than on every `health()` or scrape
 * (a queue's message count, a topic's high watermarks): read at `start()` and every `every` ms on an unref'd timer, one
 * read at a time, so that the requests are bounded however often the figure is looked at. A
 * read that fails (or gives no finite number) leaves it unknown (undefined) until one succeeds: a source
 * whose credentials may not read the figure still runs, without it.
 * @example
 * ```ts
 * const depth = new PeriodicReading(async () => (await channel.checkQueue('jobs')).messageCount);
 * depth.start();
 * depth.value; // 12, or undefined before the first read
 * ```
 */
export class PeriodicReading<T = number> {
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private last: T | undefined;

  constructor(
    private readonly read: () => Promise<T | undefined>,
    private readonly every = LAG_INTERVAL_MS,
  ) {}

  /** The last figure read, or undefined while none could be. */
  get value(): T | undefined {
    return this.last;
  }

  /** Reads now and then every `every` ms (again: reads now only). */
  start(): void {
    if (!this.timer) {
      this.timer = setInterval(() => void this.refresh(), this.every);
      this.timer.unref();
    }
    void this.refresh();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const value = await this.read();
      this.last = typeof value === 'number' && !Number.isFinite(value) ? undefined : value;
    } catch {
      this.last = undefined;
    } finally {
      this.reading = false;
    }
  }
}
