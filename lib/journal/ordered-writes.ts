/** A write in flight, and what to do once it and every write issued before it have settled. */
interface InFlight {
  settled: boolean;
  failed: boolean;
  error: unknown;
  readonly complete: (failed: boolean, error: unknown) => void;
}

/**
 * The LocalJournal's writes in flight, completed in the order they were issued: a wave written
 * while the previous one is still syncing (LevelDB queues it and syncs it next) may come back
 * first from libuv's pool, yet its emits must not resolve, nor its deliveries start, before those
 * of the waves written earlier.
 *
 * @example
 * ```ts
 * const writes = new OrderedWrites();
 * writes.add(db.batch(ops, { sync: true }), (failed, error) => (failed ? reject(error) : resolve()));
 * await writes.idle();
 * ```
 */
export class OrderedWrites {
  private readonly queue: InFlight[] = [];
  private idleWaiters: (() => void)[] = [];

  /** Writes in flight (and settled ones waiting for an earlier write). */
  get size(): number {
    return this.queue.length;
  }

  /**
   * Tracks `write`: `complete` runs once it settled and every write added before it has completed
   * (with `failed` and the rejection's reason when it rejected).
   */
  add(write: Promise<unknown>, complete: (failed: boolean, error: unknown) => void): void {
    const entry: InFlight = { settled: false, failed: false, error: undefined, complete };
    this.queue.push(entry);
    write.then(
      () => this.settle(entry, false, undefined),
      (error: unknown) => this.settle(entry, true, error),
    );
  }

  /** Resolves once no write is in flight. */
  idle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private settle(entry: InFlight, failed: boolean, error: unknown): void {
    entry.settled = true;
    entry.failed = failed;
    entry.error = error;
    while (this.queue.length > 0 && this.queue[0].settled) {
      const head = this.queue.shift() as InFlight;
      head.complete(head.failed, head.error);
    }
    if (this.queue.length === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
