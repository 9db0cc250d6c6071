import { MemoryStore } from '../../lib';
import { describeStoreContract } from '../../lib/testing';

describeStoreContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return {
    store,
    compact: async (revision) => store.compact(revision),
    dispose: () => store.close(),
  };
});

describe('MemoryStore specifics', () => {
  test('a watch older than the bounded history gets a reset', async () => {
    const store = new MemoryStore({ historySize: 3 });
    const first = await store.put('/k', '1');
    for (let i = 0; i < 5; i++) await store.put('/k', String(i));
    const events: string[] = [];
    store.watch('/', first.revision, (e) => events.push(e.type));
    await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual(['reset']);
    // A watch inside the history still resumes.
    const recent: string[] = [];
    store.watch('/', store.revision - 1, (e) => {
      if (e.type === 'changes') recent.push(...e.changes.map((c) => c.type));
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(recent).toEqual(['put', 'put']);
  });

  test('suspended watches receive what they missed on resume, or a reset if compacted meanwhile', async () => {
    const store = new MemoryStore();
    const a: string[] = [];
    store.watch('/', store.revision + 1, (e) =>
      a.push(e.type === 'changes' ? e.changes.map((c) => c.type).join(',') : e.type),
    );
    store.suspendWatches();
    await store.put('/x', '1');
    await store.delete('/x');
    await new Promise((r) => setTimeout(r, 10));
    expect(a).toEqual([]);
    store.resumeWatches();
    await new Promise((r) => setTimeout(r, 10));
    expect(a).toEqual(['put,delete']);

    store.suspendWatches();
    await store.put('/y', '1');
    store.compact();
    store.resumeWatches();
    await new Promise((r) => setTimeout(r, 10));
    expect(a).toEqual(['put,delete', 'reset']);
  });

  test('listing at a compacted revision fails with RevisionCompactedError', async () => {
    const store = new MemoryStore();
    const old = await store.put('/a', '1');
    await store.put('/a', '2');
    store.compact();
    await expect(store.list('/', { revision: old.revision })).rejects.toMatchObject({
      code: 'REVISION_COMPACTED',
    });
  });

  test('historySize must be a positive integer', () => {
    expect(() => new MemoryStore({ historySize: 0 })).toThrow(/historySize/);
  });
});
