import { ConsulStore, startConsul, ValidationError, type RunningConsul } from '../../lib';
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

describe('ConsulStore specifics', () => {
  test('bad options are a ValidationError; a write over what Consul takes fails at once', async () => {
    for (const options of [
      { url: 'consul:8500' },
      { url: 'http://consul:99999' },
      { url: 'http://[bad' },
      { url: consul.url, path: '/leading' },
      { url: consul.url, requestTimeout: 0 },
      { url: consul.url, maxRequestBytes: 1.5 },
    ]) {
      expect(() => new ConsulStore(options)).toThrow(ValidationError);
    }
    const store = new ConsulStore({ url: consul.url });
    try {
      const many = Array.from({ length: 62 }, (_, i) => ({
        type: 'put' as const,
        key: `/many/${i}`,
        value: '1',
      }));
      await expect(store.txn([], many)).rejects.toThrow(/at most 61 keys/);
      await expect(store.put('/big', 'x'.repeat(600_000))).rejects.toThrow(/maxRequestBytes/);
      await expect(store.put('/bad/\ud800', '1')).rejects.toBeInstanceOf(ValidationError);
      expect((await store.list('/many/')).items).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
