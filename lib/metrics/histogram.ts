/** Upper bounds (ms) of the latency buckets: 0.5 ms to 30 s. */
export const LATENCY_BUCKETS_MS = [
  0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000,
];

/** A histogram's state: cumulative counts per upper bound, as Prometheus reads them. */
export interface HistogramSnapshot {
  /** For each upper bound `le` (ms; the last is Infinity), how many observations were at or below it. */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
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
    let cumulative = 0;
    const buckets = this.bounds.map((le, i) => ({ le, count: (cumulative += this.counts[i]) }));
    buckets.push({ le: Infinity, count: this.total });
    return { buckets, count: this.total, sum: this.sum };
  }
}
