import { ConfigCache, MemoryStore, type CacheChange } from '../../lib';
import { UnreliableStore } from '../helpers/unreliable-store';
import { waitUntil } from '../../lib/testing';
import { startedCaches } from '../helpers/started-caches';

const P = '/root/';

function snapshot(cache: ConfigCache, keys: string[]): Record<string, string | undefined> {
  return Object.fromEntries(keys.map((k) => [k, cache.get(P + k)?.value]));
}

async function storeListing(store: { list: MemoryStore['list'] }): Promise<Record<string, string>> {
  const { items } = await store.list(P);
  return Object.fromEntries(items.map((kv) => [kv.key, kv.value]));
}

function cacheListing(cache: ConfigCache, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const kv = cache.get(key);
    if (kv) out[key] = kv.value;
  }
  return out;
}

describe('ConfigCache', () => {
  const make = startedCaches(P);

  test('is not ready before the first listing, then reflects it and its revision', async () => {
    const store = new MemoryStore();
    await store.put(P + 'a', 'A');
    const last = await store.put('/elsewhere', 'x');
    const cache = make(store);
    expect(cache.isReady).toBe(false);
    await cache.ready();
    expect(cache.isReady).toBe(true);
    expect(cache.get(P + 'a')?.value).toBe('A');
    expect(cache.get('/elsewhere')).toBeUndefined();
    expect(cache.revision).toBe(last.revision);
  });

  test('lists in pages at one revision', async () => {
    const store = new UnreliableStore();
    for (let i = 0; i < 25; i++) await store.put(`${P}k${String(i).padStart(2, '0')}`, String(i));
    const cache = make(store, { pageSize: 4 });
    await cache.ready();
    expect(cache.size).toBe(25);
    expect(store.lists).toBe(7);
  });

  test('asks for the next page before handing a page to onPage, which sees new or changed pairs only', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 10; i++) await store.put(`${P}k${i}`, String(i));
    const steps: string[] = [];
    const list = store.list.bind(store);
    store.list = (prefix, options) => {
      steps.push(`list after ${options?.after?.slice(P.length) ?? '-'}`);
      return list(prefix, options);
    };
    const seen: string[][] = [];
    const onPage = (items: readonly { key: string }[]) => {
      steps.push(`page of ${items.length}`);
      seen.push(items.map((kv) => kv.key.slice(P.length)));
    };
    const cache = make(store, { pageSize: 4, onPage });
    await cache.ready();
    expect(steps).toEqual([
      'list after -',
      'list after k3',
      'page of 4',
      'list after k7',
      'page of 4',
      'page of 2',
    ]);
    // A relisting hands on only what changed since (here, behind a watch that went silent).
    store.suspendWatches();
    await store.put(`${P}k5`, 'changed');
    seen.length = 0;
    await cache.resync('test');
    expect(seen.flat()).toEqual(['k5']);
    expect(cache.get(`${P}k5`)?.value).toBe('changed');
  });

  test('applies watched batches atomically, in order, and notifies with the changes', async () => {
    const store = new MemoryStore();
    const cache = make(store);
    await cache.ready();
    const seen: { changes: CacheChange[]; revision: number }[] = [];
    cache.on('changes', (changes, revision) => seen.push({ changes, revision }));
    await store.put(P + 'a', '1');
    const txn = await store.txn(
      [],
      [
        { type: 'put', key: P + 'b', value: '2' },
        { type: 'delete', key: P + 'a' },
      ],
    );
    await cache.waitFor(txn.revision);
    expect(snapshot(cache, ['a', 'b'])).toEqual({ a: undefined, b: '2' });
    const last = seen[seen.length - 1];
    expect(last.revision).toBe(txn.revision);
    expect(last.changes.map((c) => [c.key, c.kv?.value, c.prev?.value])).toEqual([
      [P + 'b', '2', undefined],
      [P + 'a', undefined, '1'],
    ]);
  });

  test('drops batches and changes it has already applied (duplicates, replays)', async () => {
    const store = new UnreliableStore();
    store.duplicateBatches = true;
    const cache = make(store);
    await cache.ready();
    const applied: string[] = [];
    cache.on('changes', (changes) =>
      applied.push(...changes.map((c) => `${c.kv ? 'put' : 'del'} ${c.key}`)),
    );
    await store.put(P + 'a', '1');
    await store.put(P + 'a', '2');
    await store.delete(P + 'a');
    const last = await store.put(P + 'b', '3');
    await cache.waitFor(last.revision);
    await new Promise((r) => setTimeout(r, 20));
    expect(applied).toEqual([`put ${P}a`, `put ${P}a`, `del ${P}a`, `put ${P}b`]);
    expect(cache.get(P + 'a')).toBeUndefined();
    expect(cache.get(P + 'b')?.value).toBe('3');
  });

  test('after a reset it relists and applies the deletes and puts the watch missed', async () => {
    const store = new MemoryStore();
    await store.put(P + 'keep', 'k');
    await store.put(P + 'gone', 'g');
    await store.put(P + 'changed', 'old');
    const cache = make(store);
    await cache.ready();
    const resyncs: [string, number][] = [];
    cache.on('resync', (reason, repaired) => resyncs.push([reason, repaired]));
    const deleted: string[] = [];
    cache.on('changes', (changes) =>
      deleted.push(...changes.filter((c) => !c.kv).map((c) => c.key)),
    );

    store.suspendWatches(); // the connection drops
    await store.delete(P + 'gone');
    await store.put(P + 'changed', 'new');
    const last = await store.put(P + 'added', 'a');
    store.compact(); // and the history it would resume from is compacted meanwhile
    expect(cache.get(P + 'gone')?.value).toBe('g'); // still serving the last good state
    store.resumeWatches();

    await cache.waitFor(last.revision);
    expect(snapshot(cache, ['keep', 'gone', 'changed', 'added'])).toEqual({
      keep: 'k',
      gone: undefined,
      changed: 'new',
      added: 'a',
    });
    expect(deleted).toEqual([P + 'gone']);
    expect(resyncs).toEqual([[expect.stringMatching(/^watch reset/), 3]]);
    // And it watches again from there.
    const after = await store.put(P + 'later', 'l');
    await cache.waitFor(after.revision);
    expect(cache.get(P + 'later')?.value).toBe('l');
  });

  test('after a watch error it relists, and retries failed listings while serving the last good state', async () => {
    const store = new UnreliableStore();
    await store.put(P + 'a', '1');
    const cache = make(store, { retryDelay: 5 });
    await cache.ready();
    const errors: Error[] = [];
    cache.on('error', (e) => errors.push(e));
    store.failLists = 3;
    store.inner.suspendWatches();
    await store.delete(P + 'a');
    const last = await store.put(P + 'b', '2');
    store.breakWatches();
    store.inner.resumeWatches();
    expect(cache.get(P + 'a')?.value).toBe('1');
    await cache.waitFor(last.revision);
    expect(cache.get(P + 'a')).toBeUndefined();
    expect(cache.get(P + 'b')?.value).toBe('2');
    expect(errors.map((e) => e.message)).toEqual([
      'connection reset',
      expect.stringMatching(/Listing the store failed/),
      expect.stringMatching(/Listing the store failed/),
      expect.stringMatching(/Listing the store failed/),
    ]);
  });

  test('when the store restarts empty (revision goes backwards) the cache follows it', async () => {
    const store = new UnreliableStore();
    await store.put(P + 'a', '1');
    await store.put(P + 'b', '2');
    await store.put(P + 'c', '3');
    const cache = make(store);
    await cache.ready();
    store.restartEmpty();
    await store.put(P + 'z', 'new');
    store.breakWatches();
    await waitUntil(() => cache.get(P + 'z') !== undefined);
    expect(cacheListing(cache, [P + 'a', P + 'b', P + 'c', P + 'z'])).toEqual(
      await storeListing(store),
    );
    expect(cache.revision).toBe(store.inner.revision);
  });

  test('anti-entropy relists periodically and repairs what a watch missed', async () => {
    const store = new UnreliableStore();
    await store.put(P + 'a', '1');
    const cache = make(store, { resyncInterval: 20 });
    await cache.ready();
    const repairs: number[] = [];
    cache.on('resync', (reason, repaired) => reason === 'anti-entropy' && repairs.push(repaired));
    store.inner.suspendWatches(); // a watch that silently stops delivering
    await store.delete(P + 'a');
    await store.put(P + 'b', '2');
    await waitUntil(() => cache.get(P + 'a') === undefined && cache.get(P + 'b') !== undefined);
    expect(repairs[0]).toBe(2);
  });

  test('without retained values it still notifies every change and repairs after a store restarted empty', async () => {
    const store = new UnreliableStore();
    await store.put(P + 'a', 'old-a');
    await store.put(P + 'b', 'old-b');
    const cache = make(store, { retainValues: false });
    const seen: string[] = [];
    cache.on('changes', (changes) =>
      seen.push(...changes.map((c) => `${c.key}=${c.kv?.value ?? '(deleted)'}`)),
    );
    await cache.ready();
    expect(cache.get(P + 'a')).toMatchObject({ value: '', modRevision: expect.any(Number) });
    // A new store whose key 'a' sits at the same revision as before, with another value.
    store.restartEmpty();
    await store.put(P + 'a', 'new-a');
    store.breakWatches();
    await waitUntil(() => seen.includes(`${P}a=new-a`));
    // 'a' is at the same revision in both stores: only the revision going backwards reveals it.
    expect(store.inner.revision).toBe(2);
    expect(seen).toEqual([`${P}a=old-a`, `${P}b=old-b`, `${P}b=(deleted)`, `${P}a=new-a`]);
    expect(cache.size).toBe(1);
  });

  test('close rejects pending waiters and is idempotent', async () => {
    const store = new MemoryStore();
    const cache = make(store);
    await cache.ready();
    store.suspendWatches();
    const write = await store.put(P + 'a', '1');
    const waiting = cache.waitFor(write.revision);
    cache.close();
    cache.close();
    await expect(waiting).rejects.toMatchObject({ code: 'GATEWAY_CLOSED' });
  });
});

test.each([
  ['retryDelay', NaN],
  ['retryDelay', -1],
  ['retryDelay', 0],
  ['retryDelay', 2 ** 31],
  ['maxRetryDelay', Infinity],
  ['maxRetryDelay', 1.5],
  ['resyncInterval', -5],
  ['resyncInterval', 2 ** 40],
  ['pageSize', 0],
  ['pageSize', NaN],
])(
  'a ConfigCache option %s of %p is refused with a ValidationError, before anything starts',
  (name, value) => {
    const store = new MemoryStore();
    const list = jest.spyOn(store, 'list');
    expect(() => new ConfigCache(store, P, { [name]: value })).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        message: expect.stringContaining(name),
      }),
    );
    expect(list).not.toHaveBeenCalled();
  },
);

test('resyncInterval 0 still turns the anti-entropy relisting off', () => {
  expect(() => new ConfigCache(new MemoryStore(), P, { resyncInterval: 0 }).close()).not.toThrow();
});
