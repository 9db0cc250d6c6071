import type { FunctionMetrics } from '../metrics/function-counters';

/** One function's figures over one bucket of time. */
export interface FunctionBucket {
  /** Start of the bucket, ms since the epoch. */
  readonly start: number;
  /** Deliveries and direct calls that succeeded. */
  readonly succeeded: number;
  /** Deliveries that failed for good (dead letters). */
  readonly failed: number;
  /**
   * Successful invocations whose duration is known: those that ended while a dashboard page was
   * open (the durations are heard only then, so that nobody watching costs delivery nothing).
   */
  readonly timed: number;
  /** Sum of the known durations, ms. */
  readonly totalMs: number;
  /** Longest known duration, ms. */
  readonly maxMs: number;
}

/** The limits of {@link FunctionFigures}. */
export interface FunctionFiguresLimits {
  readonly bucketMs: number;
  readonly buckets: number;
  readonly maxFunctions: number;
}

type Bucket = { -readonly [K in keyof FunctionBucket]: FunctionBucket[K] };

/**
 * Per-function figures over the last minutes, in buckets: counts sampled from the gateway's
 * per-function counters (no work on the delivery path), durations added while someone listens.
 * Bounded: `buckets` per function, `maxFunctions` functions (others are not kept), and functions
 * with no bucket left in the window are forgotten.
 * @example
 * ```ts
 * const figures = new FunctionFigures(() => gateway.functionMetrics(), { bucketMs: 10_000, buckets: 30, maxFunctions: 1000 });
 * figures.of('default'); // [{ functionId: 'mailer', buckets: [{ start, succeeded: 12, failed: 1, ... }] }]
 * ```
 */
export class FunctionFigures {
  private readonly bySpace = new Map<string, Map<string, Bucket[]>>();
  private size = 0;
  /** The counters at the last sample, by space and function. */
  private readonly seen = new Map<string, { succeeded: number; deadLettered: number }>();

  constructor(
    private readonly source: () => readonly FunctionMetrics[],
    private readonly limits: FunctionFiguresLimits,
  ) {
    // What happened before the dashboard existed is not in its window.
    this.sample(false);
  }

  /** Adds the counters' growth since the last sample to the current bucket. */
  sample(record = true): void {
    for (const m of this.source()) {
      const key = `${m.space}\u0000${m.functionId}`;
      const before = this.seen.get(key);
      this.seen.set(key, { succeeded: m.succeeded, deadLettered: m.deadLettered });
      if (!record) continue;
      const succeeded = m.succeeded - (before?.succeeded ?? 0);
      const failed = m.deadLettered - (before?.deadLettered ?? 0);
      if (succeeded <= 0 && failed <= 0) continue;
      const bucket = this.bucket(m.space, m.functionId);
      if (!bucket) continue;
      bucket.succeeded += Math.max(0, succeeded);
      bucket.failed += Math.max(0, failed);
    }
  }

  /** A successful invocation's duration. */
  timed(space: string, functionId: string, ms: number): void {
    const bucket = this.bucket(space, functionId);
    if (!bucket) return;
    bucket.timed++;
    bucket.totalMs += ms;
    if (ms > bucket.maxMs) bucket.maxMs = ms;
  }

  /** The figures of each function of a space in the window, oldest bucket first. */
  of(space: string): { functionId: string; buckets: FunctionBucket[] }[] {
    this.sample();
    const since = this.since();
    const byFunction = this.bySpace.get(space);
    const out: { functionId: string; buckets: FunctionBucket[] }[] = [];
    for (const [functionId, buckets] of byFunction ?? []) {
      const kept = buckets.filter((b) => b.start >= since);
      if (kept.length === 0) {
        // Nothing in the window: forgotten, which frees its place for another function.
        byFunction?.delete(functionId);
        this.size--;
        continue;
      }
      out.push({ functionId, buckets: kept.map((b) => ({ ...b })) });
    }
    return out;
  }

  private since(): number {
    const { bucketMs, buckets } = this.limits;
    const now = Date.now();
    return now - (now % bucketMs) - (buckets - 1) * bucketMs;
  }

  private bucket(space: string, functionId: string): Bucket | undefined {
    let byFunction = this.bySpace.get(space);
    let buckets = byFunction?.get(functionId);
    if (!buckets) {
      if (this.size >= this.limits.maxFunctions) return undefined;
      if (!byFunction) this.bySpace.set(space, (byFunction = new Map()));
      byFunction.set(functionId, (buckets = []));
      this.size++;
    }
    const now = Date.now();
    const start = now - (now % this.limits.bucketMs);
    let last = buckets.at(-1);
    if (last?.start !== start) {
      last = { start, succeeded: 0, failed: 0, timed: 0, totalMs: 0, maxMs: 0 };
      buckets.push(last);
      if (buckets.length > this.limits.buckets) buckets.shift();
    }
    return last;
  }
}
