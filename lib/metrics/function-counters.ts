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
 * functions, a space names at most `perSpace` of its own (from a reserve of another `limit`), and
 * the rest of its functions share its `(other)` entry: one tenant's many (or churning) functions
 * cannot take every other space's names, nor mix another space's counts into a shared entry.
 * Past `limit` spaces with an `(other)` entry, the rest share one `(other)` / `(other)` entry.
 */
export class FunctionCounters {
  private readonly bySpace = new Map<string, Map<string, Counts>>();
  private readonly otherBySpace = new Map<string, Counts>();
  private size = 0;
  private other: Counts | undefined;

  constructor(
    private readonly limit = 1000,
    private readonly perSpace = 50,
  ) {}

  /** The counts to add to for a function (no allocation once it has them). */
  of(space: string, functionId: string): Counts {
    let byFunction = this.bySpace.get(space);
    const found = byFunction?.get(functionId);
    if (found) return found;
    const named = byFunction?.size ?? 0;
    const room = this.size < this.limit || (named < this.perSpace && this.size < 2 * this.limit);
    if (!room) return this.otherOf(space);
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
    for (const entry of this.otherBySpace.values()) out.push({ ...entry });
    if (this.other) out.push({ ...this.other });
    return out;
  }

  private otherOf(space: string): Counts {
    const found = this.otherBySpace.get(space);
    if (found) return found;
    if (this.otherBySpace.size >= this.limit) {
      return (this.other ??= counts(OTHER_FUNCTIONS, OTHER_FUNCTIONS));
    }
    const created = counts(space, OTHER_FUNCTIONS);
    this.otherBySpace.set(space, created);
    return created;
  }
}

function counts(space: string, functionId: string): Counts {
  return { space, functionId, succeeded: 0, retried: 0, deadLettered: 0 };
}
