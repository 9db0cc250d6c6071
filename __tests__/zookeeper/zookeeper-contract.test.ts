import { startZooKeeper, ValidationError, ZooKeeperStore, type RunningZooKeeper } from '../../lib';
import { describeStoreContract } from '../../lib/testing';

let zk: RunningZooKeeper;
beforeAll(async () => {
  zk = await startZooKeeper();
}, 30_000);
afterAll(() => zk?.stop());

describeStoreContract('ZooKeeperStore', async () => {
  const store = new ZooKeeperStore({ servers: zk.servers, historySize: 50 });
  return {
    store,
    compact: (revision) => store.compact(revision),
    dispose: () => store.close(),
  };
});

describe('ZooKeeperStore specifics', () => {
  test('bad options are a ValidationError naming the option; nothing connects', () => {
    for (const options of [
      { servers: '' },
      { servers: 'zk-1:not-a-port' }, // crashed the host inside node-zookeeper-client
      { servers: 'zk-1:2181/chroot' },
      { servers: zk.servers, path: 'relative' },
      { servers: zk.servers, sessionTimeout: 0 },
      { servers: zk.servers, sessionTimeout: 2 ** 31 },
      { servers: zk.servers, maxRequestBytes: Number.NaN },
      { servers: zk.servers, watchCheckInterval: -1 },
    ]) {
      expect(() => new ZooKeeperStore(options)).toThrow(ValidationError);
    }
  });

  test('a key no znode name can hold, and a write over maxRequestBytes, fail at once with ValidationError', async () => {
    const store = new ZooKeeperStore({ servers: zk.servers, maxRequestBytes: 10_000 });
    try {
      const started = Date.now();
      await expect(store.put('/bad/\ud800', '1')).rejects.toBeInstanceOf(ValidationError);
      await expect(store.put('/big', 'x'.repeat(20_000))).rejects.toThrow(/maxRequestBytes/);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(await store.get('/big')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
