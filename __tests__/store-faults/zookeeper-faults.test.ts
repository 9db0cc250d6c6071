import { ZooKeeperStore } from '../../lib';
import { storeFixture } from '../helpers/store-fixture';
import { TcpProxy } from '../helpers/tcp-proxy';
import { describeStoreFaults } from './store-faults';

jest.setTimeout(60_000);
describeStoreFaults('zookeeper', { seeds: [1, 2] });

describe('zookeeper: a session lost for good', () => {
  const fx = storeFixture('zookeeper');

  test('a read waiting for the lost session is answered by the new one once it connects', async () => {
    const proxy = await TcpProxy.start(fx.server.port);
    fx.later(() => proxy.close());
    // The session is given up after 1 s away; the read may wait far longer than that.
    const store = new ZooKeeperStore({
      servers: `127.0.0.1:${proxy.port}`,
      sessionTimeout: 1000,
      requestTimeout: 20_000,
    });
    fx.later(() => store.close());
    await store.put('/lost-session/a', '1');
    proxy.block();
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const reading = store.get('/lost-session/a');
    // Past the session timeout: the store replaces its client while the read waits.
    await new Promise((r) => setTimeout(r, 2500));
    proxy.unblock();
    expect((await reading)?.value).toBe('1');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
