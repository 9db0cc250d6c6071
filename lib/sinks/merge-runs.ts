import { earlier, type StoredRecord } from './archive-record';

/** Records in the order they were accepted, read one at a time. */
export interface RunCursor<T extends StoredRecord> {
  /** The next record, or undefined at the end. */
  head(): T | undefined;
  /** Moves past the head. */
  advance(): void;
}

/** A run of records in the order they were accepted, loaded on demand. */
export interface Run<T extends StoredRecord> {
  /** No record of the run was accepted before this (ms since the epoch). */
  readonly start: number;
  load(): Promise<RunCursor<T>>;
}

/**
 * Merges runs (sorted by `start`) into one sequence in acceptance order. A run is loaded only
 * once the merge reaches its start (with up to `prefetch` loads ahead), so memory holds the runs
 * that overlap in time, not the whole window.
 */
export async function* mergeRuns<T extends StoredRecord>(
  runs: readonly Run<T>[],
  prefetch: number,
): AsyncGenerator<T> {
  const loads: Promise<RunCursor<T>>[] = [];
  let next = 0;
  const ahead = () => {
    while (loads.length < next + prefetch && loads.length < runs.length) {
      const loading = runs[loads.length].load();
      loading.catch(() => undefined); // awaited in turn; not an unhandled rejection meanwhile
      loads.push(loading);
    }
  };
  const open: RunCursor<T>[] = [];
  for (;;) {
    // Open every run that may hold the earliest record.
    while (
      next < runs.length &&
      (open.length === 0 || runs[next].start <= open[earliest(open)].head()!.acceptedAt)
    ) {
      ahead();
      const cursor = await loads[next];
      delete loads[next];
      next++;
      if (cursor.head() !== undefined) open.push(cursor);
    }
    if (open.length === 0) return;
    const index = earliest(open);
    const run = open[index];
    yield run.head()!;
    run.advance();
    if (run.head() === undefined) open.splice(index, 1);
  }
}

/** The open run whose head was accepted first. */
function earliest<T extends StoredRecord>(open: readonly RunCursor<T>[]): number {
  let best = 0;
  for (let i = 1; i < open.length; i++) {
    if (earlier(open[i].head()!, open[best].head()!)) best = i;
  }
  return best;
}
