/** Upper bounds (ms) of the latency buckets: 0.5 ms to 30 s. */
export const LATENCY_BUCKETS_MS = [
  0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000,
];

/** A histogram's state: cumulative counts per upper bound, as Prometheus reads them. */
export interface HistogramSnapshot {
  /** Upper bound (ms) to the number of observations at or below it. */
  readonly buckets: Readonly<Record<string, number>>;
  readonly count: number;
  /** Sum of all observations, in ms. */
  readonly sum: number;
}

/** A fixed-bucket histogram: O(buckets) per observation, no allocation. */
export class Histogram {
  private readonly counts: number[];
  private total = 0;
  private sum = 0;

  constructor(private readonly bounds: readonly number[] = LATENCY_BUCKETS_MS) {
    this.counts = new Array(bounds.length).fill(0);
  }

  observe(value: number): void {
    this.total++;
    this.sum += value;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]) {
        this.counts[i]++;
        return;
      }
    }
  }

  snapshot(): HistogramSnapshot {
    const buckets: Record<string, number> = {};
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += this.counts[i];
      buckets[String(bound)] = cumulative;
    });
    buckets['+Inf'] = this.total;
    return { buckets, count: this.total, sum: this.sum };
  }
}
