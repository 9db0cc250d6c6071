import { EtcdStore, startEtcd, type RunningEtcd } from '../../lib';
import { cacheDump, etcdFixture, expectConverged, storeDump } from './etcd-fixture';
import { TcpProxy } from './tcp-proxy';

const fx = etcdFixture();
let n = 0;
const prefix = () => `/resilience-${process.pid}-${++n}/`;

async function writeMany(
  store: EtcdStore,
  p: string,
  count: number,
  value: (i: number) => string = (i) => `v${i}`,
) {
  for (let i = 0; i < count; i += 50) {
    const ops = [];
    for (let j = i; j < Math.min(count, i + 50); j++)
      ops.push({
        type: 'put' as const,
        key: `${p}k${String(j).padStart(4, '0')}`,
        value: value(j),
      });
    await store.txn([], ops);
  }
}

describe('the cache on etcd loses no change', () => {
  test('connection cut right after the watch connects, with a backlog of 200 changes pending', async () => {
    for (let round = 0; round < 3; round++) {
      const p = prefix();
      const writer = fx.store();
      const { proxy, store } = await fx.proxied();
      const cache = fx.cache(store, p);
      await cache.ready();
      // 200 changes land while the watch is being created, then the connection drops.
      const writing = (async () => {
        for (let i = 0; i < 200; i++) await writer.put(`${p}k${i}`, `v${i}`);
      })();
      await new Promise((r) => setTimeout(r, 5 + round * 10));
      proxy.cut();
      await writing;
      await expectConverged(cache, writer, p);
      expect(Object.keys(cacheDump(cache))).toHaveLength(200);
    }
  });

  test('a backlog larger than 4 MiB, made while disconnected', async () => {
    const p = prefix();
    const writer = fx.store();
    const { proxy, store } = await fx.proxied();
    const cache = fx.cache(store, p);
    await cache.ready();
    proxy.block();
    await writeMany(writer, p, 700, (i) => `${i}:`.padEnd(8 * 1024, 'x'));
    proxy.unblock();
    await expectConverged(cache, writer, p);
    expect(cache.size).toBe(700);
  });

  test('a compaction while disconnected: every put and delete made meanwhile is applied', async () => {
    const p = prefix();
    const writer = fx.store();
    await writeMany(writer, p, 50);
    const { proxy, store } = await fx.proxied();
    const resyncs: string[] = [];
    const cache = fx.cache(store, p);
    cache.on('resync', (reason) => resyncs.push(reason));
    await cache.ready();
    proxy.block();
    for (let i = 0; i < 25; i++) await writer.delete(`${p}k${String(i).padStart(4, '0')}`);
    await writeMany(writer, p, 10, (i) => `changed-${i}`);
    const last = await writer.put(`${p}new`, 'n');
    await writer.compact(last.revision);
    proxy.unblock();
    await expectConverged(cache, writer, p);
    expect(cache.get(`${p}k0000`)?.value).toBe('changed-0');
    expect(cache.get(`${p}k0020`)).toBeUndefined();
    expect(resyncs.length).toBeGreaterThan(0);
  });
});

describe('the cache across etcd restarts', () => {
  let own: RunningEtcd | undefined;
  afterEach(async () => {
    await own?.stop();
    own = undefined;
  });

  test('etcd restarted with its data: the cache catches up with what changed meanwhile', async () => {
    own = await startEtcd({ name: 'restart-data', dataDir: undefined });
    const { clientPort, peerPort, dataDir } = own;
    const proxy = await TcpProxy.start(clientPort);
    fx.later(() => proxy.close());
    const store = new EtcdStore({ hosts: proxy.url, requestTimeout: 1500 });
    fx.later(() => store.close());
    const p = prefix();
    await store.put(`${p}a`, '1');
    const cache = fx.cache(store, p);
    await cache.ready();
    // Stop etcd but keep its data, then start it again on the same ports.
    own.process.kill('SIGTERM');
    await new Promise((r) => own?.process.once('exit', r));
    const again = await startEtcd({ name: 'restart-data', dataDir, clientPort, peerPort });
    const keep = own;
    own = {
      ...again,
      stop: async () => {
        await again.stop();
        await keep.stop();
      },
    };
    const writer = new EtcdStore({ hosts: again.endpoints });
    fx.later(() => writer.close());
    await writer.put(`${p}b`, '2');
    await writer.delete(`${p}a`);
    await expectConverged(cache, writer, p);
    expect(cacheDump(cache)).toEqual({ [`${p}b`]: '2' });
  });

  test('etcd restarted empty (its revision goes backwards): the cache follows the new store', async () => {
    own = await startEtcd({ name: 'restart-empty' });
    const proxy = await TcpProxy.start(own.clientPort);
    fx.later(() => proxy.close());
    const store = new EtcdStore({ hosts: proxy.url, requestTimeout: 1500 });
    fx.later(() => store.close());
    const p = prefix();
    await writeMany(store, p, 120);
    const cache = fx.cache(store, p);
    const resyncs: string[] = [];
    cache.on('resync', (reason) => resyncs.push(reason));
    await cache.ready();
    const before = cache.revision;
    await own.stop();
    own = await startEtcd({ name: 'restart-empty' });
    proxy.retarget(own.clientPort);
    proxy.cut();
    const writer = new EtcdStore({ hosts: own.endpoints });
    fx.later(() => writer.close());
    await writer.put(`${p}fresh`, 'f');
    await expectConverged(cache, writer, p);
    expect(cacheDump(cache)).toEqual(await storeDump(writer, p));
    expect(cache.revision).toBeLessThan(before);
    // Settled on the new cluster: no endless relisting.
    const settledAt = resyncs.length;
    await writer.put(`${p}later`, 'l');
    await expectConverged(cache, writer, p);
    await new Promise((r) => setTimeout(r, 500));
    expect(resyncs.length).toBe(settledAt);
    expect(cache.watching).toBe(true);
  });
});
