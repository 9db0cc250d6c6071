import { MemoryStore, type Store, type WatchListener } from '../../lib';
import { startedCaches } from '../helpers/started-caches';

const P = '/same-revision/';

/**
 * The contract delivers each revision's changes in one batch, in order: a store may name a key
 * more than once at one revision (put then delete, delete then put). The cache applies them in
 * order; it dropped every change after the first at the same revision as "not newer", and kept a
 * key put and deleted in one transaction. (Found by the cache-equals-store property test on
 * MemoryStore.)
 */
describe('ConfigCache: several changes of one key at one revision', () => {
  const make = startedCaches(P);

  /** A MemoryStore whose watch listener the test can also call, as another store would. */
  function withListener(store: MemoryStore) {
    const state: { listener?: WatchListener } = {};
    const wrapped = new Proxy(store, {
      get(target, name) {
        if (name === 'watch') {
          return (prefix: string, from: number, listener: WatchListener) => {
            state.listener = listener;
            return target.watch(prefix, from, listener);
          };
        }
        const value = Reflect.get(target, name) as unknown;
        return typeof value === 'function'
          ? (value as (...a: unknown[]) => unknown).bind(target)
          : value;
      },
    }) as Store;
    return { store: wrapped, state };
  }

  test.each([
    ['put then delete', ['put:1', 'delete'], undefined],
    ['delete then put', ['delete', 'put:1'], '1'],
    ['put, delete, put', ['put:1', 'delete', 'put:2'], '2'],
    ['put twice', ['put:1', 'put:2'], '2'],
  ] as const)('%s in one batch', async (_name, steps, expected) => {
    const memory = new MemoryStore();
    await memory.put(`${P}k`, 'before');
    const { store, state } = withListener(memory);
    const cache = make(store);
    await cache.ready();
    const revision = cache.revision + 1;
    const key = `${P}k`;
    state.listener!({
      type: 'changes',
      revision,
      changes: steps.map((step) =>
        step === 'delete'
          ? { type: 'delete' as const, key, modRevision: revision }
          : {
              type: 'put' as const,
              kv: { key, value: step.slice(4), createRevision: revision, modRevision: revision },
            },
      ),
    });
    expect(cache.get(key)?.value).toBe(expected);
    expect(cache.revision).toBe(revision);
  });
});
