/** Delivery counts of one function (or of every function past the limit, as `(other)`). */
export interface FunctionMetrics {
  readonly space: string;
  readonly functionId: string;
  /** Deliveries (and direct calls) that succeeded. */
  readonly succeeded: number;
  /** Failed attempts followed by a retry. */
  readonly retried: number;
  /** Deliveries that failed for good. */
  readonly deadLettered: number;
}

type Counts = { -readonly [K in keyof FunctionMetrics]: FunctionMetrics[K] };

/** The label that stands for every function past the limit. */
export const OTHER_FUNCTIONS = '(other)';

/**
 * Counts per (space, function), for metrics labelled by function. Bounded: past `limit` distinct
 * functions, the rest share one `(other)` entry, so a configuration with many functions (or one
 * that churns) cannot grow the metrics without end.
 */
export class FunctionCounters {
  private readonly bySpace = new Map<string, Map<string, Counts>>();
  private size = 0;
  private other: Counts | undefined;

  constructor(private readonly limit = 1000) {}

  /** The counts to add to for a function (no allocation once it has them). */
  of(space: string, functionId: string): Counts {
    let byFunction = this.bySpace.get(space);
    const found = byFunction?.get(functionId);
    if (found) return found;
    if (this.size >= this.limit) {
      return (this.other ??= counts(OTHER_FUNCTIONS, OTHER_FUNCTIONS));
    }
    if (!byFunction) this.bySpace.set(space, (byFunction = new Map()));
    const created = counts(space, functionId);
    byFunction.set(functionId, created);
    this.size++;
    return created;
  }

  snapshot(): FunctionMetrics[] {
    const out: FunctionMetrics[] = [];
    for (const byFunction of this.bySpace.values()) {
      for (const entry of byFunction.values()) out.push({ ...entry });
    }
    if (this.other) out.push({ ...this.other });
    return out;
  }
}

function counts(space: string, functionId: string): Counts {
  return { space, functionId, succeeded: 0, retried: 0, deadLettered: 0 };
}
