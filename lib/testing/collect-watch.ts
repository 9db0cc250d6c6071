import type { Store, WatchEvent } from '../index';

/** One change seen by {@link collectWatch}, flattened for assertions. */
export interface FlatChange {
  type: 'put' | 'delete';
  key: string;
  value?: string;
  modRevision: number;
}

/** What {@link collectWatch} returns. */
export interface CollectedWatch {
  /** Every non-empty batch, in arrival order. */
  readonly batches: { revision: number; changes: FlatChange[] }[];
  /** Resets and errors. */
  readonly others: WatchEvent[];
  /** Closes the watch. */
  close(): void;
  /** Resolves with every change so far once `predicate` holds; rejects after `timeoutMs`. */
  until(predicate: (changes: FlatChange[]) => boolean, timeoutMs?: number): Promise<FlatChange[]>;
}

/**
 * Watches a store and collects what arrives, for assertions.
 * @example
 * ```ts
 * const w = collectWatch(store, '/p/', (await store.put('/p/a', '1')).revision + 1);
 * await store.put('/p/b', '2');
 * await w.until((changes) => changes.length === 1);
 * w.close();
 * ```
 */
export function collectWatch(store: Store, prefix: string, fromRevision: number): CollectedWatch {
  const batches: { revision: number; changes: FlatChange[] }[] = [];
  const others: WatchEvent[] = [];
  const watch = store.watch(prefix, fromRevision, (event) => {
    if (event.type !== 'changes') return void others.push(event);
    if (event.changes.length === 0) return;
    batches.push({
      revision: event.revision,
      changes: event.changes.map((c) =>
        c.type === 'put'
          ? { type: 'put', key: c.kv.key, value: c.kv.value, modRevision: c.kv.modRevision }
          : { type: 'delete', key: c.key, modRevision: c.modRevision },
      ),
    });
  });
  const all = () => batches.flatMap((b) => b.changes);
  return {
    batches,
    others,
    close: () => watch.close(),
    async until(predicate: (changes: FlatChange[]) => boolean, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(all())) {
        if (Date.now() > deadline) throw new Error(`watch: got only ${JSON.stringify(all())}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return all();
    },
  };
}
