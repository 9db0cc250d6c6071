import { EtcdStore, startEtcd, type RunningEtcd } from '../../lib';

/**
 * Lost answers made on purpose: the etcd3 client's `txn` is wrapped so that one call's answer is
 * lost (the request reached etcd) or the request itself is lost (it never did), each time with
 * another writer changing the key meanwhile. What the store then answers must be what happened,
 * even when the other writer wrote the very same value.
 */
let etcd: RunningEtcd;
beforeAll(async () => {
  etcd = await startEtcd();
}, 30_000);
afterAll(() => etcd.stop());

const lostAnswer = () => Object.assign(new Error('14 UNAVAILABLE: Connection dropped'));

/** A store whose next transaction loses its answer (`'answer'`) or its request (`'request'`). */
function lossyStore(meanwhile: () => Promise<unknown>) {
  const store = new EtcdStore({ hosts: etcd.endpoints, requestTimeout: 2000 });
  const kv = store.client.kv;
  const txn = kv.txn.bind(kv);
  const state: { lose?: 'answer' | 'request' } = {};
  kv.txn = async (...args: Parameters<typeof txn>) => {
    const lose = state.lose;
    state.lose = undefined;
    if (lose === 'request') {
      await meanwhile();
      throw lostAnswer();
    }
    const res = await txn(...args);
    if (lose === 'answer') {
      await meanwhile();
      throw lostAnswer();
    }
    return res;
  };
  return { store, state };
}

test('a write that landed, whose answer was lost, then overwritten by another writer: succeeded', async () => {
  const other = new EtcdStore({ hosts: etcd.endpoints });
  const { store, state } = lossyStore(() => other.put('/lost/a', 'theirs'));
  try {
    const { revision } = await store.put('/lost/a', 'first');
    state.lose = 'answer';
    const result = await store.put('/lost/a', 'mine', { ifModRevision: revision });
    // It did land (then the other writer replaced it): "refused" would make a caller plan it again.
    expect(result).toMatchObject({ succeeded: true });
    expect((await other.get('/lost/a'))?.value).toBe('theirs');
  } finally {
    await store.close();
    await other.close();
  }
});

test('a write that never reached etcd, while another writer wrote the same value: refused', async () => {
  const other = new EtcdStore({ hosts: etcd.endpoints });
  const { store, state } = lossyStore(() => other.put('/lost/b', 'same'));
  try {
    const { revision } = await store.put('/lost/b', 'first');
    state.lose = 'request';
    const result = await store.put('/lost/b', 'same', { ifModRevision: revision });
    // Its compare no longer holds and it never applied: taking the other writer's value for its
    // own would report a write that did not happen.
    expect(result).toMatchObject({ succeeded: false });
  } finally {
    await store.close();
    await other.close();
  }
});

test('the commit markers live on a short lease: they are gone after it', async () => {
  const store = new EtcdStore({ hosts: etcd.endpoints, requestTimeout: 1000 });
  try {
    const markers = () => store.client.getAll().prefix('event-gateway.commits/').keys();
    const before = new Set(await markers());
    await store.put('/lost/c', 'v');
    const mine = (await markers()).filter((key) => !before.has(key));
    expect(mine).toHaveLength(1);
    // 6 × requestTimeout + 10 s: 16 s; etcd checks expiry every 500 ms.
    const started = Date.now();
    while ((await markers()).includes(mine[0]) && Date.now() - started < 25_000) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(await markers()).not.toContain(mine[0]);
  } finally {
    await store.close();
  }
}, 40_000);
