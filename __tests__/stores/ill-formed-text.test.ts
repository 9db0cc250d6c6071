import { MemoryStore, ValidationError, type Store } from '../../lib';
import { storeDump, storeFixture } from '../helpers/store-fixture';
import type { StoreKind } from '../helpers/store-servers';

/**
 * A key or value holding a lone surrogate has no UTF-8 form: a server would store U+FFFD in its
 * place, so a put would write (and a delete remove) another key than the one named, and the cache
 * would hold a key nobody wrote. Every store refuses such text with ValidationError, and changes
 * nothing. (Found by __tests__/stores/cache-equals-store.etcd.property.test.ts.)
 */
function describeIllFormedText(name: string, open: () => Store) {
  describe(`${name}: text without a UTF-8 form`, () => {
    const p = `/ill-formed-${process.pid}/`;
    const replaced = `${p}lone\ufffd`;

    test('a key or value with a lone surrogate is refused and nothing is written', async () => {
      const store = open();
      await store.put(replaced, 'kept');
      const refusals = [
        store.put(`${p}lone\ud800`, 'v'),
        store.put(`${p}k`, 'v\udc00'),
        // Deleting it would delete the key whose name has U+FFFD in its place.
        store.delete(`${p}lone\ud800`),
        store.txn(
          [],
          [
            { type: 'put', key: `${p}a`, value: 'fine' },
            { type: 'put', key: `${p}b`, value: '\ud83d' },
          ],
        ),
        store.txn(
          [{ key: `${p}lone\ud800`, exists: false }],
          [{ type: 'put', key: `${p}c`, value: 'c' }],
        ),
        store.get(`${p}lone\ud800`),
        store.list(`${p}lone\ud800`),
      ];
      for (const refusal of refusals) await expect(refusal).rejects.toBeInstanceOf(ValidationError);
      expect(await storeDump(store, p)).toEqual({ [replaced]: 'kept' });
      expect(() => store.watch(`${p}\udfff`, 1, () => undefined)).toThrow(ValidationError);
    });
  });
}

describeIllFormedText('MemoryStore', () => new MemoryStore());
for (const kind of ['etcd', 'zookeeper', 'consul'] as StoreKind[]) {
  describe(kind, () => {
    const fx = storeFixture(kind);
    describeIllFormedText(kind, () => fx.store());
  });
}
