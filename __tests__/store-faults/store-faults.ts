import {
  CommitUnknownError,
  createGateway,
  StoreUnavailableError,
  type Gateway,
  type GatewayError,
  type Store,
} from '../../lib';
import { expectNoDanglingSubscriptions } from '../helpers/integrity';
import {
  expectInstancesConverged,
  startInstance,
  stopWriting,
  type Instance,
} from '../helpers/gateway-instances';
import { cacheDump, expectConverged, storeDump, storeFixture } from '../helpers/store-fixture';
import type { StoreKind } from '../helpers/store-servers';
import type { TcpProxy } from '../helpers/tcp-proxy';
import { faultRun, startServer, type FaultServer } from '../../scripts/fault-run';

/**
 * Writes `count` keys in transactions of 20 (small enough for ZooKeeper's and Consul's default
 * request limits with 8 KiB values).
 */
async function writeMany(
  store: Store,
  p: string,
  count: number,
  value: (i: number) => string = (i) => `v${i}`,
) {
  for (let i = 0; i < count; i += 20) {
    const ops = [];
    for (let j = i; j < Math.min(count, i + 20); j++)
      ops.push({
        type: 'put' as const,
        key: `${p}k${String(j).padStart(4, '0')}`,
        value: value(j),
      });
    await store.txn([], ops);
  }
}

function prng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

/**
 * The fault tests every store with a server of its own passes: cut connections with a backlog,
 * compaction while cut off, restarts with and without data, writes while the server is away,
 * gateways in separate processes, and seeded random runs of all of these.
 */
export function describeStoreFaults(kind: StoreKind, options: { seeds: number[] }): void {
  const fx = storeFixture(kind);
  let n = 0;
  const prefix = () => `/faults-${process.pid}-${++n}/`;

  async function gatewayOn(store: Store, gatewayPrefix = `/gw-${process.pid}-${++n}`) {
    const gateway = createGateway(store, { resyncInterval: 0, prefix: gatewayPrefix });
    fx.later(() => gateway.close());
    await gateway.ready();
    return gateway;
  }

  describe(`${kind}: the cache loses no change`, () => {
    test('connection cut right after the watch connects, with a backlog of 200 changes pending', async () => {
      for (let round = 0; round < 3; round++) {
        const p = prefix();
        const writer = fx.store();
        const { proxy, store } = await fx.proxied();
        const cache = fx.cache(store, p);
        await cache.ready();
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

    test('a key created and deleted while the watch was behind is not kept (one catch-up batch)', async () => {
      const p = prefix();
      const writer = fx.store();
      await writer.put(`${p}kept`, 'k1');
      await writer.put(`${p}gone`, 'g1');
      // The watch starts only once these changes are made: its first batch holds them all.
      let made!: Promise<void>;
      const behind = () => (made = makeChanges());
      const makeChanges = async () => {
        await writer.put(`${p}brief`, 'b1');
        await writer.delete(`${p}brief`);
        await writer.delete(`${p}gone`);
        await writer.put(`${p}gone`, 'g2');
        await writer.delete(`${p}gone`);
        await writer.put(`${p}kept`, 'k2');
      };
      const cache = fx.cache(lateWatch(fx.store(), behind), p);
      await cache.ready();
      await made;
      await expectConverged(cache, writer, p);
      expect(cacheDump(cache)).toEqual({ [`${p}kept`]: 'k2' });
    });

    test('a backlog larger than 4 MiB, made while disconnected', async () => {
      const p = prefix();
      // The writer only makes the backlog: 5.6 MiB of transactions, each fsynced by the server,
      // outlasted its 5 s request timeout once on a disk shared with fsync-heavy benchmarks. The
      // cache under test keeps its own timeout.
      const writer = fx.store({ requestTimeout: 30_000 });
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

  describe(`${kind}: while the server is away`, () => {
    test('a write fails with StoreUnavailableError within requestTimeout, and works once back', async () => {
      const { proxy, store } = await fx.proxied({ requestTimeout: 1000 });
      await store.put('/reach/a', '1');
      proxy.block();
      const started = Date.now();
      const error = await store.put('/reach/b', '2').catch((e: unknown) => e);
      if (error instanceof CommitUnknownError) {
        // Sent as the connection dropped (etcd's first request may already have left): in doubt,
        // it tried another requestTimeout to find out, and says so.
        expect(Date.now() - started).toBeLessThan(2800);
      } else {
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(Date.now() - started).toBeLessThan(1800);
      }
      proxy.unblock();
      let result;
      for (let i = 0; i < 40 && !result; i++)
        result = await store.put('/reach/b', '2').catch(() => undefined);
      expect(result).toMatchObject({ succeeded: true });
    });

    test('routing goes on from the cache, writes fail fast, health says so; then it catches up', async () => {
      const { proxy, store } = await fx.proxied({ requestTimeout: 800, watchCheckInterval: 200 });
      const gateway = await gatewayOn(store);
      const writer = await gatewayOn(fx.store(), gateway.options.prefix);
      const seen: string[] = [];
      await gateway.registerFunction({
        functionId: 'f',
        handler: (e) => void seen.push((e as { id: string }).id),
      });
      await gateway.createEventType({ name: 'e' });
      await gateway.subscribe({ eventType: 'e', functionId: 'f' });
      expect(gateway.health()).toMatchObject({ ready: true, watching: true, store: store.name });

      proxy.block();
      const event = (id: string) => ({ specversion: '1.0', id, source: '/t', type: 'e' });
      const outcome = await gateway.emit(event('while-down'), { wait: true });
      expect(outcome.outcomes?.[0]).toMatchObject({ ok: true });
      expect(seen).toEqual(['while-down']);
      // Unavailable, or in doubt when the write left as the connection dropped.
      const failure = await gateway.createEventType({ name: 'other' }).catch((e: unknown) => e);
      expect(['STORE_UNAVAILABLE', 'COMMIT_UNKNOWN']).toContain((failure as GatewayError).code);
      while (gateway.health().watching) await new Promise((r) => setTimeout(r, 20));
      expect(gateway.health()).toMatchObject({ ready: true, watching: false });

      await writer.registerFunction({
        functionId: 'g',
        type: 'http',
        provider: { url: 'http://127.0.0.1:1/' },
      });
      proxy.unblock();
      while (!gateway.listFunctions().some((f) => f.functionId === 'g'))
        await new Promise((r) => setTimeout(r, 20));
      expect(gateway.health()).toMatchObject({ watching: true });
      expect(gateway.configSnapshot()).toEqual(writer.configSnapshot());
    });
  });

  describe(`${kind}: restarts`, () => {
    test('restarted with its data: the cache catches up with what changed meanwhile', async () => {
      const p = prefix();
      const { store } = await fx.proxied();
      await store.put(`${p}a`, '1');
      const cache = fx.cache(store, p);
      await cache.ready();
      await fx.server.restart({ keepData: true });
      const writer = fx.store();
      await retry(() => writer.put(`${p}b`, '2'));
      await writer.delete(`${p}a`);
      await expectConverged(cache, writer, p);
      expect(cacheDump(cache)).toEqual({ [`${p}b`]: '2' });
    });

    test('restarted empty: the cache follows the new store and settles', async () => {
      const p = prefix();
      const { store } = await fx.proxied();
      await writeMany(store, p, 120);
      const cache = fx.cache(store, p);
      const resyncs: string[] = [];
      cache.on('resync', (reason) => resyncs.push(reason));
      await cache.ready();
      await fx.server.restart({ keepData: false });
      const writer = fx.store();
      await retry(() => writer.put(`${p}fresh`, 'f'));
      await expectConverged(cache, writer, p);
      expect(cacheDump(cache)).toEqual({ [`${p}fresh`]: 'f' });
      // Settled on the new data: no endless relisting.
      const settledAt = resyncs.length;
      await writer.put(`${p}later`, 'l');
      await expectConverged(cache, writer, p);
      await new Promise((r) => setTimeout(r, 500));
      expect(resyncs.length).toBe(settledAt);
      expect(cache.watching).toBe(true);
    });
  });

  describe(`${kind}: gateways`, () => {
    test('two gateways: writes propagate, read-your-writes holds, integrity is enforced', async () => {
      const a = await gatewayOn(fx.store());
      const b = await gatewayOn(fx.store(), a.options.prefix);
      await a.registerFunction({
        functionId: 'f',
        type: 'http',
        provider: { url: 'http://127.0.0.1:1/' },
      });
      expect(a.getFunction({ functionId: 'f' }).functionId).toBe('f');
      await a.createEventType({ name: 'e' });
      while (b.revision < a.revision) await new Promise((r) => setTimeout(r, 10));
      const sub = await b.subscribe({ eventType: 'e', functionId: 'f' });
      while (a.revision < b.revision) await new Promise((r) => setTimeout(r, 10));
      expect(a.getSubscription({ subscriptionId: sub.subscriptionId })).toEqual(sub);
      await expect(a.deleteFunction({ functionId: 'f' })).rejects.toMatchObject({
        code: 'CONFLICT',
        reason: 'in-use',
      });
    });

    test('three gateways in separate processes writing at once converge on the store, nothing dangling', async () => {
      const gatewayPrefix = `/procs-${process.pid}-${++n}`;
      const instances: Instance[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          instances.push(await startInstance(fx.server.env(), gatewayPrefix, `i${i}`, 7 + i));
        }
        for (const instance of instances) instance.child.send({ cmd: 'start' });
        await new Promise((r) => setTimeout(r, 2000));
        await stopWriting(instances);
        const expected = await storeDump(fx.store(), gatewayPrefix + '/');
        expect(Object.keys(expected).length).toBeGreaterThan(0);
        expectNoDanglingSubscriptions(expected);
        await expectInstancesConverged(instances, expected);
      } finally {
        for (const instance of instances) instance.child.kill();
      }
    }, 90_000);

    test.each(options.seeds)(
      'seed %i: random writes, cuts and compactions; every cache equals the store at quiescence',
      async (seed) => randomRun(seed),
      120_000,
    );
  });

  describe(`${kind}: the fault run of \`npm run faults\``, () => {
    // Three gateway processes with default options; the server is killed and restarted, then one
    // gateway's link is cut (scripts/fault-run.js). A new pair of seeds each run (FAULT_SEED
    // chooses the first): a failure names its seed, and the command that replays it.
    const first = Number(process.env.FAULT_SEED) || 1 + Math.floor(Math.random() * 100_000);
    let server: FaultServer;
    beforeAll(async () => {
      server = await startServer(kind);
    }, 60_000);
    afterAll(() => server?.dispose());

    test.each([first, first + 1])(
      'seed %i: every gateway holds what the store holds once the writes stop',
      async (seed) => {
        const result = await faultRun(server, seed);
        if (result.diverged) {
          console.error(
            `${kind} fault run seed ${seed} diverged; replay: npm run faults -- --store ${kind} --first ${seed} --seeds 1`,
            JSON.stringify({ plan: result.plan, details: result.details }),
          );
        }
        expect({ seed, diverged: result.diverged }).toEqual({ seed, diverged: false });
      },
      180_000,
    );
  });

  /**
   * Several instances write random configuration while connections are cut at random and the
   * store compacts; once everything stops, every instance's cache must equal the store. A failing
   * seed replays the same run.
   */
  async function randomRun(seed: number) {
    const random = prng(seed);
    const gatewayPrefix = `/random-${process.pid}-${seed}`;
    const instances: {
      gateway: Gateway;
      proxy: TcpProxy;
      resyncs: string[];
      history: Map<string, string[]>;
    }[] = [];
    for (let i = 0; i < 4; i++) {
      const { proxy, store } = await fx.proxied({ requestTimeout: 1000, watchCheckInterval: 300 });
      const history = new Map<string, string[]>();
      const gateway = await gatewayOn(tracedStore(store, history), gatewayPrefix);
      const resyncs: string[] = [];
      gateway.on('store.resync', (reason, repaired) => resyncs.push(`${reason} (${repaired})`));
      instances.push({ gateway, proxy, resyncs, history });
    }
    const admin = fx.store();
    let writes = 0;
    for (let step = 0; step < 300; step++) {
      const { gateway, proxy } = instances[Math.floor(random() * instances.length)];
      const roll = random();
      const id = `f${Math.floor(random() * 15)}`;
      const path = `/${Math.floor(random() * 4)}`;
      const op =
        roll < 0.3
          ? gateway.registerFunction({
              functionId: id,
              type: 'http',
              provider: { url: `http://127.0.0.1:1/${step}` },
            })
          : roll < 0.45
            ? gateway.updateFunction({
                functionId: id,
                type: 'http',
                provider: { url: `http://127.0.0.1:1/u${step}` },
              })
            : roll < 0.65
              ? gateway.subscribe({ eventType: 'http.request', functionId: id, path })
              : roll < 0.8
                ? gateway.deleteFunction({ functionId: id })
                : roll < 0.9
                  ? gateway.createCors({ method: 'GET', path })
                  : (async () => {
                      const subs = gateway.listSubscriptions();
                      if (subs.length)
                        await gateway.unsubscribe({
                          subscriptionId: subs[Math.floor(random() * subs.length)].subscriptionId,
                        });
                    })();
      // Most writes run concurrently with the next few.
      const done = op.then(() => writes++).catch(() => undefined);
      if (random() < 0.3) await done;
      if (random() < 0.05) proxy.cut();
      if (random() < 0.02) {
        proxy.block();
        setTimeout(() => proxy.unblock(), 100 + Math.floor(random() * 400));
      }
      if (random() < 0.02) {
        const { revision } = await admin.list(gatewayPrefix + '/', { limit: 1 });
        await admin.compact(revision).catch(() => undefined);
      }
    }
    for (const { proxy } of instances) proxy.unblock();
    await new Promise((r) => setTimeout(r, 1500));
    expect(writes).toBeGreaterThan(30);
    // The store is read again each round: a write whose caller was told "unavailable" may still
    // land (a request the client library had queued while cut off), and the caches must follow
    // it too. A cache that missed a change never matches, whatever the round.
    const deadline = Date.now() + 30_000;
    const actual = (gateway: Gateway) => Object.entries(gateway.configSnapshot()).sort();
    let expected: [string, string][];
    for (;;) {
      expected = Object.entries(await storeDump(admin, gatewayPrefix + '/')).sort();
      const want = JSON.stringify(expected);
      if (instances.every(({ gateway }) => JSON.stringify(actual(gateway)) === want)) break;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const want = new Map(expected);
    instances.forEach(({ gateway, resyncs, history }, i) => {
      const have = new Map(actual(gateway));
      const differs = [...new Set([...have.keys(), ...want.keys()])].filter(
        (key) => have.get(key) !== want.get(key),
      );
      if (differs.length === 0) return;
      // What the next reader of a failure needs: which keys, which side, and the link's history.
      console.error(
        `${kind} seed ${seed}: instance ${i} differs from the store on ${differs.length} keys`,
        JSON.stringify({
          differs: differs.map((key) => ({
            key,
            cache: have.get(key),
            store: want.get(key),
            // Every listing and watch event that named the key, as this instance's store saw it.
            seen: history.get(key)?.slice(-20),
          })),
          health: gateway.health(),
          resyncs: resyncs.slice(-10),
        }),
      );
    });
    for (const { gateway } of instances) expect(actual(gateway)).toEqual(expected);
    expectNoDanglingSubscriptions(Object.fromEntries(expected));
  }
}

/** The store, its first watch started only once `meanwhile` is done (a watch that fell behind). */
function lateWatch(store: Store, meanwhile: () => Promise<void>): Store {
  let first = true;
  return new Proxy(store, {
    get(target, name) {
      if (name === 'watch') {
        return (prefix: string, from: number, listener: Parameters<Store['watch']>[2]) => {
          if (!first) return target.watch(prefix, from, listener);
          first = false;
          let inner: ReturnType<Store['watch']> | undefined;
          let closed = false;
          void meanwhile().then(() => {
            if (!closed) inner = target.watch(prefix, from, listener);
          });
          return {
            close() {
              closed = true;
              inner?.close();
            },
          };
        };
      }
      const value = Reflect.get(target, name) as unknown;
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

/** Retries a write while a restarted server comes back. */
async function retry<T>(write: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await write();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * The store, recording for each key every listing page and watch event that named it (revision,
 * put or delete, modRevision): what a random run prints about a key an instance got wrong.
 */
function tracedStore(store: Store, history: Map<string, string[]>): Store {
  const note = (key: string, line: string) => {
    let lines = history.get(key);
    if (!lines) history.set(key, (lines = []));
    lines.push(line);
  };
  return new Proxy(store, {
    get(target, name) {
      if (name === 'list') {
        return async (prefix: string, options?: Parameters<Store['list']>[1]) => {
          const page = await target.list(prefix, options);
          for (const kv of page.items)
            note(kv.key, `listed at ${page.revision}: mod ${kv.modRevision}`);
          return page;
        };
      }
      if (name === 'watch') {
        return (prefix: string, from: number, listener: Parameters<Store['watch']>[2]) =>
          target.watch(prefix, from, (event) => {
            if (event.type === 'changes') {
              for (const change of event.changes) {
                const key = change.type === 'put' ? change.kv.key : change.key;
                const mod = change.type === 'put' ? change.kv.modRevision : change.modRevision;
                note(
                  key,
                  `watch (from ${from}) batch ${event.revision}: ${change.type} mod ${mod}`,
                );
              }
            }
            listener(event);
          });
      }
      const value = Reflect.get(target, name) as unknown;
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}
