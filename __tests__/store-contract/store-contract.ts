import { GatewayClosedError, type Store, type WatchEvent } from '../../lib';
import { collectWatch } from '../helpers/watch';

/** What the contract needs of a store under test beyond the contract itself. */
export interface StoreHarness {
  readonly store: Store;
  /** Discards history up to `revision`, as etcd's compaction does. */
  compact(revision: number): Promise<void>;
  /** Releases whatever the harness started. */
  dispose(): Promise<void>;
}

/**
 * The store contract suite: every Store implementation must pass it unchanged. Keys live under a
 * unique prefix per test, so one store can serve the whole suite.
 */
export function describeStoreContract(name: string, create: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store;
    let p: string;
    let n = 0;

    beforeEach(async () => {
      harness = await create();
      store = harness.store;
      p = `/contract-${process.pid}-${++n}/`;
    });
    afterEach(async () => {
      await harness.dispose();
    });

    test('get returns undefined for an absent key and the pair after a put', async () => {
      expect(await store.get(p + 'a')).toBeUndefined();
      const put = await store.put(p + 'a', '{"x":1}');
      expect(put.succeeded).toBe(true);
      const kv = await store.get(p + 'a');
      expect(kv).toEqual({
        key: p + 'a',
        value: '{"x":1}',
        createRevision: put.revision,
        modRevision: put.revision,
      });
    });

    test('every write gets a higher revision; an update keeps createRevision', async () => {
      const first = await store.put(p + 'a', '1');
      const second = await store.put(p + 'a', '2');
      const third = await store.put(p + 'b', '3');
      expect(second.revision).toBeGreaterThan(first.revision);
      expect(third.revision).toBeGreaterThan(second.revision);
      const kv = await store.get(p + 'a');
      expect(kv?.createRevision).toBe(first.revision);
      expect(kv?.modRevision).toBe(second.revision);
    });

    test('list returns only the prefix, sorted, with a revision at least the last write', async () => {
      await store.put(p + 'b', 'B');
      await store.put(p + 'a', 'A');
      const last = await store.put(p + 'c/d', 'D');
      await store.put(p.slice(0, -1) + 'x', 'outside');
      const listing = await store.list(p);
      expect(listing.items.map((kv) => [kv.key, kv.value])).toEqual([
        [p + 'a', 'A'],
        [p + 'b', 'B'],
        [p + 'c/d', 'D'],
      ]);
      expect(listing.revision).toBeGreaterThanOrEqual(last.revision);
      expect(listing.more).toBe(false);
    });

    test('list pages stay consistent at the first page revision despite writes in between', async () => {
      for (let i = 0; i < 7; i++) await store.put(`${p}k${i}`, `v${i}`);
      const first = await store.list(p, { limit: 3 });
      expect(first.items.map((kv) => kv.key)).toEqual([p + 'k0', p + 'k1', p + 'k2']);
      expect(first.more).toBe(true);
      await store.delete(p + 'k4');
      await store.put(p + 'k5', 'changed');
      await store.put(p + 'k9', 'new');
      const rest = await store.list(p, { after: p + 'k2', revision: first.revision });
      expect(rest.revision).toBe(first.revision);
      expect(rest.items.map((kv) => [kv.key, kv.value])).toEqual([
        [p + 'k3', 'v3'],
        [p + 'k4', 'v4'],
        [p + 'k5', 'v5'],
        [p + 'k6', 'v6'],
      ]);
      const now = await store.list(p);
      expect(now.items.map((kv) => kv.key)).toEqual(
        ['k0', 'k1', 'k2', 'k3', 'k5', 'k6', 'k9'].map((k) => p + k),
      );
    });

    test('put with ifModRevision 0 creates only when absent', async () => {
      expect((await store.put(p + 'a', '1', { ifModRevision: 0 })).succeeded).toBe(true);
      const again = await store.put(p + 'a', '2', { ifModRevision: 0 });
      expect(again.succeeded).toBe(false);
      expect((await store.get(p + 'a'))?.value).toBe('1');
    });

    test('put and delete with ifModRevision are compare-and-swap', async () => {
      const created = await store.put(p + 'a', '1');
      expect(
        (await store.put(p + 'a', '2', { ifModRevision: created.revision + 1000 })).succeeded,
      ).toBe(false);
      const swapped = await store.put(p + 'a', '2', { ifModRevision: created.revision });
      expect(swapped.succeeded).toBe(true);
      expect((await store.delete(p + 'a', { ifModRevision: created.revision })).succeeded).toBe(
        false,
      );
      expect((await store.get(p + 'a'))?.value).toBe('2');
      expect((await store.delete(p + 'a', { ifModRevision: swapped.revision })).succeeded).toBe(
        true,
      );
      expect(await store.get(p + 'a')).toBeUndefined();
    });

    test('deleting an absent key succeeds and changes nothing', async () => {
      const before = await store.put(p + 'other', 'x');
      const result = await store.delete(p + 'absent');
      expect(result.succeeded).toBe(true);
      expect((await store.list(p)).items).toHaveLength(1);
      expect(result.revision).toBeGreaterThanOrEqual(before.revision);
    });

    test('txn applies all operations at one revision, or none when a compare fails', async () => {
      const a = await store.put(p + 'a', 'A');
      const ok = await store.txn(
        [
          { key: p + 'a', modRevision: a.revision },
          { key: p + 'b', exists: false },
        ],
        [
          { type: 'put', key: p + 'b', value: 'B' },
          { type: 'delete', key: p + 'a' },
        ],
      );
      expect(ok.succeeded).toBe(true);
      const b = await store.get(p + 'b');
      expect(b?.modRevision).toBe(ok.revision);
      expect(await store.get(p + 'a')).toBeUndefined();

      const failed = await store.txn(
        [
          { key: p + 'b', exists: true },
          { key: p + 'a', exists: true },
        ],
        [
          { type: 'put', key: p + 'c', value: 'C' },
          { type: 'delete', key: p + 'b' },
        ],
      );
      expect(failed.succeeded).toBe(false);
      expect(await store.get(p + 'c')).toBeUndefined();
      expect((await store.get(p + 'b'))?.value).toBe('B');
    });

    test('txn prefix compare holds when nothing under the prefix changed after the revision', async () => {
      const base = await store.put(p + 'subs/one', '1');
      const empty = { prefix: p + 'none/', maxModRevision: 0 };
      expect(
        (await store.txn([empty], [{ type: 'put', key: p + 'x', value: '1' }])).succeeded,
      ).toBe(true);
      const unchanged = { prefix: p + 'subs/', maxModRevision: base.revision };
      expect(
        (await store.txn([unchanged], [{ type: 'put', key: p + 'y', value: '1' }])).succeeded,
      ).toBe(true);
      await store.put(p + 'subs/two', '2');
      const stale = { prefix: p + 'subs/', maxModRevision: base.revision };
      const refused = await store.txn([stale], [{ type: 'put', key: p + 'z', value: '1' }]);
      expect(refused.succeeded).toBe(false);
      expect(await store.get(p + 'z')).toBeUndefined();
    });

    test('watch delivers changes from fromRevision in order, one batch per transaction', async () => {
      const start = await store.put(p + 'before', '0');
      const w = collectWatch(store, p, start.revision + 1);
      await store.put(p + 'a', '1');
      await store.txn(
        [],
        [
          { type: 'put', key: p + 'b', value: '2' },
          { type: 'put', key: p + 'c', value: '3' },
        ],
      );
      await store.put(p.slice(0, -1) + '-outside', 'x');
      await store.delete(p + 'a');
      const changes = await w.until((all) => all.length >= 4);
      expect(changes.map((c) => [c.type, c.key])).toEqual([
        ['put', p + 'a'],
        ['put', p + 'b'],
        ['put', p + 'c'],
        ['delete', p + 'a'],
      ]);
      const txnBatch = w.batches.find((b) => b.changes.some((c) => c.key === p + 'b'));
      expect(txnBatch?.changes.map((c) => c.key)).toEqual(
        expect.arrayContaining([p + 'b', p + 'c']),
      );
      const revisions = w.batches.map((b) => b.revision);
      expect([...revisions].sort((x, y) => x - y)).toEqual(revisions);
      w.close();
    });

    test('watch from an older revision replays what happened since', async () => {
      const first = await store.put(p + 'a', '1');
      await store.put(p + 'a', '2');
      await store.delete(p + 'a');
      const w = collectWatch(store, p, first.revision);
      const changes = await w.until((all) => all.length >= 3);
      expect(changes.map((c) => c.type)).toEqual(['put', 'put', 'delete']);
      expect(changes[1].value).toBe('2');
      w.close();
    });

    test('watch from a compacted revision reports a reset', async () => {
      const first = await store.put(p + 'a', '1');
      await store.put(p + 'a', '2');
      const last = await store.put(p + 'a', '3');
      await harness.compact(last.revision);
      const events: WatchEvent[] = [];
      const watch = store.watch(p, first.revision + 1, (e) => events.push(e));
      await waitUntil(() => events.some((e) => e.type === 'reset'));
      watch.close();
    });

    test('a closed watch delivers nothing more', async () => {
      const start = await store.put(p + 'a', '0');
      const w = collectWatch(store, p, start.revision + 1);
      w.close();
      await store.put(p + 'a', '1');
      await new Promise((r) => setTimeout(r, 100));
      expect(w.batches).toHaveLength(0);
    });

    test('close is idempotent and later calls fail with GatewayClosedError', async () => {
      await store.close();
      await store.close();
      await expect(store.get(p + 'a')).rejects.toBeInstanceOf(GatewayClosedError);
      await expect(store.put(p + 'a', '1')).rejects.toBeInstanceOf(GatewayClosedError);
    });
  });
}

export async function waitUntil(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('waitUntil: condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
