import { MemoryStore, ValidationError, type Store } from '../../lib';
import { storeDump, storeFixture } from '../helpers/store-fixture';
import type { StoreKind } from '../helpers/store-servers';

/**
 * Writes every store must take alike (found red-teaming the stores for the cache-equals-store
 * property): a transaction naming one key twice applies its operations in order, as MemoryStore,
 * ZooKeeperStore and ConsulStore did (etcd refuses duplicate keys in a transaction: EtcdStore
 * answered StoreUnavailableError, "did not answer within 5000 ms", after 10 ms); a write larger
 * than the server takes is a ValidationError at once (EtcdStore answered the same
 * StoreUnavailableError, a "try again later" for a write that can never fit).
 */
function describeTxnShapes(name: string, open: () => Store, limited: boolean) {
  describe(`${name}: transaction shapes`, () => {
    const p = `/shapes-${process.pid}/`;

    test('a key named twice in one transaction: the operations apply in order', async () => {
      const store = open();
      await store.put(`${p}gone`, 'g');
      const result = await store.txn(
        [],
        [
          { type: 'put', key: `${p}k`, value: '1' },
          { type: 'put', key: `${p}k`, value: '2' },
          { type: 'put', key: `${p}brief`, value: 'b' },
          { type: 'delete', key: `${p}brief` },
          { type: 'delete', key: `${p}gone` },
          { type: 'put', key: `${p}gone`, value: 'back' },
        ],
      );
      expect(result.succeeded).toBe(true);
      expect(await storeDump(store, p)).toEqual({ [`${p}k`]: '2', [`${p}gone`]: 'back' });
    });

    (limited ? test : test.skip)(
      'a write larger than the server takes is a ValidationError at once, and nothing is written',
      async () => {
        const store = open();
        const started = Date.now();
        await expect(store.put(`${p}huge`, 'x'.repeat(2_000_000))).rejects.toBeInstanceOf(
          ValidationError,
        );
        expect(Date.now() - started).toBeLessThan(2000);
        expect(await store.get(`${p}huge`)).toBeUndefined();
      },
    );
  });
}

describeTxnShapes('MemoryStore', () => new MemoryStore(), false);
for (const kind of ['etcd', 'zookeeper', 'consul'] as StoreKind[]) {
  describe(kind, () => {
    const fx = storeFixture(kind);
    describeTxnShapes(kind, () => fx.store(), true);
  });
}
