import { ConfigCache, MemoryStore, type CacheChange } from '../../lib';

const P = '/batches/';

/**
 * A watch that fell behind (a link cut, a store restart, a watch started after its listing)
 * catches up with many revisions in one batch, and one key may change several times in it.
 * Each change must be weighed against the key as the batch has left it so far.
 */
describe('ConfigCache: a batch that changes one key more than once', () => {
  let cache: ConfigCache;
  afterEach(() => cache.close());

  async function caughtUp(changes: (store: MemoryStore) => Promise<unknown>) {
    const store = new MemoryStore();
    await store.put(P + 'kept', 'k1');
    await store.put(P + 'gone', 'g1');
    cache = new ConfigCache(store, P, { resyncInterval: 0 });
    cache.start();
    await cache.ready();
    const seen: CacheChange[][] = [];
    cache.on('changes', (batch) => seen.push(batch));
    store.suspendWatches();
    await changes(store);
    store.resumeWatches();
    await cache.waitFor(store.revision);
    const { items } = await store.list(P);
    const held = [...cache.entries()].map((kv) => [kv.key, kv.value]).sort();
    return { seen, held, stored: items.map((kv) => [kv.key, kv.value]) };
  }

  test('a key created and deleted within the batch is not kept', async () => {
    const { held, stored, seen } = await caughtUp(async (store) => {
      await store.put(P + 'brief', 'b1');
      await store.put(P + 'brief', 'b2');
      await store.delete(P + 'brief');
      await store.put(P + 'kept', 'k2');
    });
    expect(held).toEqual(stored);
    expect(held).toEqual([
      [P + 'gone', 'g1'],
      [P + 'kept', 'k2'],
    ]);
    // One batch, one change per key that changed: what it was before, what it is after.
    expect(seen).toHaveLength(1);
    expect(seen[0].map((c) => [c.key, c.prev?.value, c.kv?.value])).toEqual([
      [P + 'kept', 'k1', 'k2'],
    ]);
  });

  test('deleted, created again and deleted again: gone; deleted and created again: the new value', async () => {
    const { held, stored, seen } = await caughtUp(async (store) => {
      await store.delete(P + 'gone');
      await store.put(P + 'gone', 'g2');
      await store.delete(P + 'gone');
      await store.delete(P + 'kept');
      await store.put(P + 'kept', 'k2');
    });
    expect(held).toEqual(stored);
    expect(held).toEqual([[P + 'kept', 'k2']]);
    expect(seen[0].map((c) => [c.key, c.prev?.value, c.kv?.value])).toEqual([
      [P + 'gone', 'g1', undefined],
      [P + 'kept', 'k1', 'k2'],
    ]);
  });
});
