import { earlier, type StoredRecord } from './archive-record';

/** A run of records in the order they were accepted, loaded on demand. */
export interface Run<T extends StoredRecord> {
  /** No record of the run was accepted before this (ms since the epoch). */
  readonly start: number;
  load(): Promise<T[]>;
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
  const loads: Promise<T[]>[] = [];
  let next = 0;
  const ahead = () => {
    while (loads.length < next + prefetch && loads.length < runs.length) {
      const loading = runs[loads.length].load();
      loading.catch(() => undefined); // awaited in turn; not an unhandled rejection meanwhile
      loads.push(loading);
    }
  };
  const open: { records: T[]; at: number }[] = [];
  for (;;) {
    // Open every run that may hold the earliest record.
    while (next < runs.length && (open.length === 0 || runs[next].start <= head(open).acceptedAt)) {
      ahead();
      const records = await loads[next];
      delete loads[next];
      next++;
      if (records.length > 0) open.push({ records, at: 0 });
    }
    if (open.length === 0) return;
    const index = earliest(open);
    const run = open[index];
    yield run.records[run.at++];
    if (run.at === run.records.length) open.splice(index, 1);
  }
}

function earliest<T extends StoredRecord>(open: readonly { records: T[]; at: number }[]): number {
  let best = 0;
  for (let i = 1; i < open.length; i++) {
    if (earlier(open[i].records[open[i].at], open[best].records[open[best].at])) best = i;
  }
  return best;
}

function head<T extends StoredRecord>(open: readonly { records: T[]; at: number }[]): T {
  const run = open[earliest(open)];
  return run.records[run.at];
}
