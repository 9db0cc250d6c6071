import { EtcdStore, GatewayClosedError, startEtcd } from '../../lib';
import { describeStoreContract } from '../../lib/testing';
import { storeFixture } from '../helpers/store-fixture';

const fx = storeFixture('etcd');
const endpoints = () => [`http://127.0.0.1:${fx.server.port}`];

describeStoreContract('EtcdStore', async () => {
  const store = new EtcdStore({ hosts: endpoints() });
  return { store, compact: (revision) => store.compact(revision), dispose: () => store.close() };
});

describe('EtcdStore specifics', () => {
  test('listings over 4 MiB arrive whole, paginated at one revision', async () => {
    const store = fx.store();
    const value = 'x'.repeat(8 * 1024);
    const prefix = `/big-${Date.now()}/`;
    for (let i = 0; i < 600; i += 50) {
      await store.txn(
        [],
        Array.from({ length: 50 }, (_, j) => ({
          type: 'put' as const,
          key: `${prefix}${String(i + j).padStart(4, '0')}`,
          value,
        })),
      );
    }
    const whole = await store.list(prefix);
    expect(whole.items).toHaveLength(600);
    let count = 0;
    let after: string | undefined;
    for (;;) {
      const page = await store.list(prefix, { limit: 128, after, revision: whole.revision });
      count += page.items.length;
      if (!page.more) break;
      after = page.items[page.items.length - 1].key;
    }
    expect(count).toBe(600);
  });

  test('a watch from a revision etcd has compacted, or from the future after a restart, ends with a reset', async () => {
    const store = fx.store();
    const first = await store.put('/compacted/a', '1');
    const last = await store.put('/compacted/a', '2');
    await store.compact(last.revision);
    const events: string[] = [];
    store.watch('/compacted/', first.revision, (e) =>
      events.push(e.type === 'reset' ? `reset: ${e.reason}` : e.type),
    );
    const future: string[] = [];
    store.watch('/compacted/', last.revision + 1000, (e) =>
      future.push(e.type === 'reset' ? `reset: ${e.reason}` : e.type),
    );
    const deadline = Date.now() + 10_000;
    while ((events.length === 0 || future.length === 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([expect.stringMatching(/^reset: etcd canceled the watch/)]);
    expect(future).toEqual([expect.stringMatching(/^reset: the store's revision went backwards/)]);
  });

  test('close is idempotent; calls after it fail with GatewayClosedError', async () => {
    const store = new EtcdStore({ hosts: endpoints() });
    await store.close();
    await store.close();
    await expect(store.get('/x')).rejects.toBeInstanceOf(GatewayClosedError);
  });

  test('startEtcd names the package to install when there is no binary', async () => {
    await expect(startEtcd({ binary: '/nonexistent/etcd' })).rejects.toThrow(
      'startEtcd: no etcd binary at "/nonexistent/etcd". Install etcd (Debian and Ubuntu: apt-get install etcd-server) or pass { binary }.',
    );
  });
});
