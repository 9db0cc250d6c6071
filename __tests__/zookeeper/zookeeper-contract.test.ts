import { startZooKeeper, ZooKeeperStore, type RunningZooKeeper } from '../../lib';
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
