import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdStore, freePort, startEtcd, ValidationError, type RunningEtcd } from '../../lib';
import type { WatchEvent } from '../../lib/store/store';
import { storeFixture } from '../helpers/store-fixture';
import { etcdctlTls, writeTestCertificates } from '../helpers/test-certificates';

// The EtcdStore's watches and reads over node:http2 (lib/store/etcd-watch-stream.ts and
// etcd-calls.ts): what etcd3's gRPC client did for them (keepalive, failover, TLS, auth), its own
// options, and etcd3 loaded only for writes, against real etcd.

const fx = storeFixture('etcd');

function collect(store: EtcdStore, prefix: string, from: number) {
  const events: WatchEvent[] = [];
  const watch = store.watch(prefix, from, (event) => events.push(event));
  return {
    events,
    watch,
    async until(done: () => boolean, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (!done()) throw new Error(`not seen in ${ms} ms: ${JSON.stringify(events)}`);
    },
    puts: () =>
      events.flatMap((e) =>
        e.type === 'changes' ? e.changes.map((c) => (c.type === 'put' ? c.kv.value : '-')) : [],
      ),
  };
}

/** A proxy whose connections can be frozen: open, but nothing passes (a half-open TCP path). */
async function freezingProxy(targetPort: number) {
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    for (const s of [client, upstream]) s.on('error', () => undefined);
    sockets.push(client, upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze: () => sockets.forEach((s) => (s.unpipe(), s.pause())),
    close: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

test('a frozen connection (no reset, nothing passes) ends the watch with an error after an unanswered ping', async () => {
  const proxy = await freezingProxy(fx.server.port);
  fx.later(() => proxy.close());
  const store = new EtcdStore({
    hosts: proxy.url,
    grpcOptions: { 'grpc.keepalive_time_ms': 400, 'grpc.keepalive_timeout_ms': 400 },
  });
  fx.later(() => store.close());
  const writer = fx.store();
  const first = await writer.put('/frozen/a', '1');
  const w = collect(store, '/frozen/', first.revision);
  await w.until(() => w.puts().includes('1'));
  proxy.freeze();
  const frozenAt = Date.now();
  await w.until(() => w.events.some((e) => e.type === 'error'), 5000);
  expect(Date.now() - frozenAt).toBeLessThan(3000);
  const error = w.events.find((e) => e.type === 'error');
  expect(error).toMatchObject({
    error: { code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/did not answer a ping/) },
  });
});

test('a store that only reads and watches never loads etcd3 (the built package, in a child process); its first write does', () => {
  const script = `
    const { EtcdStore } = require('./dist/etcd');
    const loaded = () => Object.keys(require.cache).some((f) => f.includes('/node_modules/etcd3/'));
    (async () => {
      const store = new EtcdStore({ hosts: 'http://127.0.0.1:${fx.server.port}' });
      const { revision } = await store.list('/only-reads/');
      await store.get('/only-reads/a');
      const changes = [];
      const watch = store.watch('/only-reads/', revision + 1, (e) => changes.push(e));
      const beforeWrite = loaded();
      await store.put('/only-reads/a', '1');
      const deadline = Date.now() + 10000;
      while (!changes.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      watch.close();
      await store.close();
      console.log(JSON.stringify({ beforeWrite, afterWrite: loaded(), changes: changes.length }));
    })();
  `;
  const result = spawnSync(process.execPath, ['-e', script], {
    cwd: join(__dirname, '..', '..'),
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(result.stderr).toBe('');
  expect(JSON.parse(result.stdout)).toEqual({ beforeWrite: false, afterWrite: true, changes: 1 });
});

test('a watch that fails on one host is tried on the next host', async () => {
  // A port nothing listens on any more.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const store = new EtcdStore({
    hosts: [`http://127.0.0.1:${deadPort}`, `http://127.0.0.1:${fx.server.port}`],
    requestTimeout: 2000,
  });
  fx.later(() => store.close());
  const first = await fx.store().put('/failover/a', '1');
  const down = collect(store, '/failover/', first.revision);
  await down.until(() => down.events.length > 0);
  expect(down.events).toEqual([{ type: 'error', error: expect.any(Error) }]);
  const up = collect(store, '/failover/', first.revision);
  await up.until(() => up.puts().includes('1'));
  expect(up.events[0].type).toBe('changes');
});

test('grpcOptions: keepalive values are checked; other keys move watches to etcd3, which still resets on compaction', async () => {
  for (const bad of [0, -1, Number.NaN, 'often', 2 ** 31, 1.5]) {
    expect(
      () =>
        new EtcdStore({
          hosts: 'http://127.0.0.1:1',
          grpcOptions: { 'grpc.keepalive_time_ms': bad as number },
        }),
    ).toThrow(ValidationError);
  }
  const store = new EtcdStore({
    hosts: `http://127.0.0.1:${fx.server.port}`,
    grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 500 },
  });
  fx.later(() => store.close());
  const first = await store.put('/fallback/a', '1');
  const w = collect(store, '/fallback/', first.revision);
  await w.until(() => w.puts().includes('1'));
  const second = await store.put('/fallback/a', '2');
  await w.until(() => w.puts().includes('2'));
  await store.compact(second.revision);
  const late = collect(store, '/fallback/', first.revision);
  await late.until(() => late.events.length > 0);
  expect(late.events).toEqual([
    { type: 'reset', reason: expect.stringMatching(/^etcd canceled the watch/) },
  ]);
  await store.put('/fallback/a', '3');
  await w.until(() => w.puts().includes('3'));
});

test.each([
  ['node:http2', undefined],
  ["etcd3's watcher", { 'grpc.initial_reconnect_backoff_ms': 500 }],
])(
  "%s: a watch canceled by a compaction leaves the store's other watches running, nothing thrown",
  async (_path, grpcOptions) => {
    // On etcd3's shared watch stream this threw "Failed to find watcher" out of its stream handler
    // (an uncaught exception: a host without a handler exits) and the first watch went deaf.
    const store = new EtcdStore({ hosts: `http://127.0.0.1:${fx.server.port}`, grpcOptions });
    fx.later(() => store.close());
    const prefix = `/shared-${grpcOptions ? 'etcd3' : 'http2'}/`;
    const first = await store.put(`${prefix}a`, '1');
    const w = collect(store, prefix, first.revision);
    await w.until(() => w.puts().includes('1'));
    const second = await store.put(`${prefix}a`, '2');
    await w.until(() => w.puts().includes('2'));
    await store.compact(second.revision);
    const late = collect(store, prefix, first.revision);
    await late.until(() => late.events.length > 0);
    expect(late.events).toEqual([
      { type: 'reset', reason: expect.stringMatching(/^etcd canceled the watch/) },
    ]);
    await store.put(`${prefix}a`, '3');
    await w.until(() => w.puts().includes('3'));
    expect(w.events.every((e) => e.type === 'changes')).toBe(true);
  },
);

describe('etcd with mutual TLS and a user and password', () => {
  let etcd: RunningEtcd;
  let dir: string;
  let tls: { rootCertificate: Buffer; certChain: Buffer; privateKey: Buffer };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'eg-watch-tls-'));
    const certs = await writeTestCertificates(dir);
    etcd = await startEtcd({
      tls: {
        certFile: certs.serverCert,
        keyFile: certs.serverKey,
        clientCaFile: certs.ca,
      },
    });
    tls = {
      rootCertificate: await readFile(certs.ca),
      certChain: await readFile(certs.clientCert),
      privateKey: await readFile(certs.clientKey),
    };
    const etcdctl = (...args: string[]) => etcdctlTls(etcd.endpoints[0], certs, ...args);
    for (const args of [
      ['user', 'add', 'root:root-password'],
      ['user', 'grant-role', 'root', 'root'],
      ['user', 'add', 'gw:gw-password'],
      ['role', 'add', 'gw'],
      ['role', 'grant-permission', 'gw', '--prefix=true', 'readwrite', '/secure/'],
      ['role', 'grant-permission', 'gw', '--prefix=true', 'readwrite', 'event-gateway.commits/'],
      ['user', 'grant-role', 'gw', 'gw'],
      ['auth', 'enable'],
    ]) {
      etcdctl(...args);
    }
  }, 60_000);
  afterAll(async () => {
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('the watch authenticates over TLS; a wrong password or a range without permission ends it, never hangs', async () => {
    const store = new EtcdStore({
      hosts: etcd.endpoints,
      tls,
      auth: { username: 'gw', password: 'gw-password' },
    });
    fx.later(() => store.close());
    const first = await store.put('/secure/a', '1');
    const w = collect(store, '/secure/', first.revision);
    await w.until(() => w.puts().includes('1'));
    await store.put('/secure/a', '2');
    await w.until(() => w.puts().includes('2'));

    // Reads go over node:http2 with the same token.
    expect(await store.get('/secure/a')).toMatchObject({ value: '2' });
    expect((await store.list('/secure/')).items).toHaveLength(1);
    await expect(store.get('/other/a')).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringMatching(/permission denied/),
    });

    const forbidden = collect(store, '/other/', first.revision);
    await forbidden.until(() => forbidden.events.length > 0);
    expect(forbidden.events).toEqual([
      {
        type: 'reset',
        reason: expect.stringMatching(/^etcd canceled the watch \(.*permission denied/),
      },
    ]);

    const wrong = new EtcdStore({
      hosts: etcd.endpoints,
      tls,
      auth: { username: 'gw', password: 'nope' },
    });
    fx.later(() => wrong.close());
    await expect(wrong.get('/secure/a')).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringMatching(/authentication failed/),
    });
    const refused = collect(wrong, '/secure/', first.revision);
    await refused.until(() => refused.events.length > 0);
    expect(refused.events).toEqual([
      {
        type: 'error',
        error: expect.objectContaining({
          code: 'STORE_UNAVAILABLE',
          message: expect.stringMatching(/authentication failed/),
        }),
      },
    ]);

    const untrusted = new EtcdStore({
      hosts: etcd.endpoints,
      auth: { username: 'gw', password: 'gw-password' },
    });
    fx.later(() => untrusted.close());
    const noCa = collect(untrusted, '/secure/', first.revision);
    await noCa.until(() => noCa.events.length > 0);
    expect(noCa.events).toEqual([
      { type: 'error', error: expect.objectContaining({ code: 'STORE_UNAVAILABLE' }) },
    ]);
  });
});

test('a watch on a member cut off from its cluster ends with an error (require-leader), long before the silence check', async () => {
  const names = ['m1', 'm2', 'm3'];
  const ports = await Promise.all(
    names.map(async () => ({ client: await freePort(), peer: await freePort() })),
  );
  const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i].peer}`).join(',');
  const members = await Promise.all(
    names.map((name, i) =>
      startEtcd({
        name,
        clientPort: ports[i].client,
        peerPort: ports[i].peer,
        initialCluster,
        initialClusterToken: `leader-${process.pid}`,
      }),
    ),
  );
  fx.later(() => Promise.all(members.map((m) => m.stop({ kill: true }))));
  const store = new EtcdStore({ hosts: members[0].endpoints, watchCheckInterval: 120_000 });
  fx.later(() => store.close());
  let first;
  for (let tries = 0; !first; tries++) {
    first = await store.put('/leader/a', '1').catch((error) => {
      if (tries > 50) throw error;
    });
  }
  const w = collect(store, '/leader/', first.revision);
  await w.until(() => w.puts().includes('1'));
  // The two other members stop answering: the watched one has no leader any more.
  for (const m of members.slice(1)) m.process.kill('SIGSTOP');
  fx.later(() => members.slice(1).forEach((m) => m.process.kill('SIGCONT')));
  await w.until(() => w.events.some((e) => e.type !== 'changes'), 15_000);
  expect(w.events.at(-1)).toMatchObject({
    type: 'error',
    error: { code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/no leader/) },
  });
}, 60_000);
