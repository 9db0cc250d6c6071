import type { Store, WatchEvent } from '../../lib';

export interface FlatChange {
  type: 'put' | 'delete';
  key: string;
  value?: string;
  modRevision: number;
}

/** Watches a store and collects what arrives, for assertions. */
export function collectWatch(store: Store, prefix: string, fromRevision: number) {
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
