import { EtcdStore, startEtcd, type RunningEtcd } from '../../lib';
import type { WatchEvent } from '../../lib/store/store';
import { TcpProxy } from '../helpers/tcp-proxy';

// The node:http2 watch against real etcd, over time: batches etcd splits in fragments, and a
// watch cut and made again many times (what it holds must not grow with the reconnects).

let etcd: RunningEtcd;
let writer: EtcdStore;
beforeAll(async () => {
  // A small request limit: etcd fragments any batch over it plus 512 KiB (its gRPC overhead).
  etcd = await startEtcd({ args: ['--max-request-bytes', String(64 * 1024)] });
  writer = new EtcdStore({ hosts: etcd.endpoints });
}, 30_000);
afterAll(async () => {
  await writer?.close();
  await etcd?.stop();
});

async function until(done: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  if (!done()) throw new Error(`not done in ${ms} ms`);
}

test('a backlog of ~820 KB, which etcd sends in fragments of ~576 KiB, arrives whole and as one batch', async () => {
  const value = 'v'.repeat(8 * 1024);
  const first = await writer.put('/frag/0', value);
  for (let i = 1; i < 100; i++) await writer.put(`/frag/${i}`, value);
  const reader = new EtcdStore({ hosts: etcd.endpoints });
  const events: WatchEvent[] = [];
  const watch = reader.watch('/frag/', first.revision, (event) => events.push(event));
  try {
    await until(() => events.some((e) => e.type !== 'changes' || e.changes.length > 0));
    await new Promise((r) => setTimeout(r, 300));
    const batches = events.filter((e) => e.type === 'changes' && e.changes.length > 0);
    expect(events.filter((e) => e.type !== 'changes')).toEqual([]);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ revision: first.revision + 99 });
    const changes = batches[0].type === 'changes' ? batches[0].changes : [];
    expect(changes.map((c) => (c.type === 'put' ? c.kv.key : ''))).toEqual(
      Array.from({ length: 100 }, (_, i) => `/frag/${i}`),
    );
  } finally {
    watch.close();
    await reader.close();
  }
});

test('200 watches cut by a TCP proxy and made again: handles and listeners do not grow, nothing is lost', async () => {
  const proxy = await TcpProxy.start(etcd.clientPort);
  const store = new EtcdStore({ hosts: proxy.url, watchCheckInterval: 60_000 });
  const handles = () =>
    (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const counts: number[] = [];
  let delivered = (await writer.put('/re/x', '0')).revision;
  let seen = 0;
  try {
    for (let round = 0; round < 200; round++) {
      let failed = false;
      let got = 0;
      const watch = store.watch('/re/', delivered + 1, (event) => {
        if (event.type !== 'changes') failed = true;
        else got += event.changes.length;
        if (event.type === 'changes') delivered = Math.max(delivered, event.revision);
      });
      await writer.put('/re/x', String(round + 1));
      await until(() => got > 0);
      seen += got;
      proxy.cut();
      await until(() => failed);
      watch.close();
      if (round % 50 === 49) {
        await new Promise((r) => setTimeout(r, 100));
        counts.push(handles().length);
      }
    }
  } finally {
    await store.close();
    await proxy.close();
  }
  expect(seen).toBe(200);
  // The same handful of handles after 50 reconnects as after 200.
  expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(2);
  expect(process.listenerCount('uncaughtException')).toBeLessThan(5);
}, 120_000);
