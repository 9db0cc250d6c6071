import { ConsulStore, startConsul, type RunningConsul } from '../../lib';
import { describeStoreContract } from '../../lib/testing';
import { CONSUL_BINARY } from '../helpers/servers';

let consul: RunningConsul;
beforeAll(async () => {
  consul = await startConsul({ binary: CONSUL_BINARY });
}, 30_000);
afterAll(() => consul?.stop());

describeStoreContract('ConsulStore', async () => {
  const store = new ConsulStore({ url: consul.url, historySize: 50 });
  return {
    store,
    compact: (revision) => store.compact(revision),
    dispose: () => store.close(),
  };
});
