import { retryWrite } from '../helpers/retry-write';
import { storeDump, storeFixture } from '../helpers/store-fixture';
import type { StoreKind } from '../helpers/store-servers';

/**
 * A server restarted empty (or restored from an old backup) and written past the old revision
 * while a cache was cut off: the same writes in the same order give each key the same
 * modRevision it had before, with another value. The cache's relisting must still see the new
 * values, also when it keeps no values (`retainValues: false`, as the gateway's catalog runs it),
 * and its `changes` events must carry them. (Found by the cache-equals-store property tests.)
 */
for (const kind of ['etcd', 'zookeeper', 'consul'] as StoreKind[]) {
  describe(`${kind}: a store replaced by an empty one`, () => {
    const fx = storeFixture(kind);

    test('written past the old revision while cut off: the cache follows the new values', async () => {
      const p = '/replaced/';
      // The first writes of each incarnation: each key's modRevision is the same in both.
      const writeAll = async (store: ReturnType<typeof fx.store>, label: string) => {
        for (let i = 0; i < 6; i++) await retryWrite(() => store.put(`${p}k${i}`, `${label}${i}`));
      };
      await writeAll(fx.store(), 'old');
      const { proxy, store } = await fx.proxied({ watchCheckInterval: 300 });
      const cache = fx.cache(store, p, { retainValues: false });
      const seen = new Map<string, string>();
      cache.on('changes', (changes) => {
        for (const { key, kv } of changes) {
          if (kv) seen.set(key, kv.value);
          else seen.delete(key);
        }
      });
      await cache.ready();
      const old = cache.revision;
      proxy.block();
      await fx.server.restart({ keepData: false });
      const fresh = fx.store();
      await writeAll(fresh, 'new');
      let revision = 0;
      while (revision <= old + 2) revision = (await fresh.put(`${p}later`, 'l')).revision;
      proxy.unblock();
      const want = await storeDump(fresh, p);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && cache.revision < revision) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(Object.fromEntries([...seen].sort())).toEqual(want);
      expect(want[`${p}k0`]).toBe('new0');
    });
  });
}
