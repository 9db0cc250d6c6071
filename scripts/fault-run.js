// The random fault run (issue 24): three gateway processes on one store server, with default
// options, writing seeded random configuration while the server is killed (SIGKILL) for 2-9 s
// and restarted with its data, then one gateway's connection is cut for 2-6 s. Once the writes
// stop, every gateway must hold exactly what the store holds. Used by `npm run faults` and by the
// store fault suite (a few seeds); a seed replays the same schedule of faults.
const { fork } = require('node:child_process');
const { mkdtemp, rm } = require('node:fs/promises');
const { connect, createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const {
  ConsulStore,
  EtcdStore,
  ZooKeeperStore,
  freePort,
  startConsul,
  startEtcd,
  startZooKeeper,
} = require('../dist');
const { CACHE } = require('./servers');

/** The stores a fault run covers. */
const KINDS = ['zookeeper', 'consul', 'etcd'];

/** How long the gateways may take to match the store once the writes stop, in ms. */
const CONVERGE_MS = 20_000;

function prng(seed) {
  return () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loopback TCP proxy that can refuse and drop its connections (a cut link). */
async function startProxy(targetPort) {
  const sockets = new Set();
  let blocked = false;
  const server = createServer((client) => {
    if (blocked) return void client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ]) {
      sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const drop = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    port: server.address().port,
    block() {
      blocked = true;
      drop();
    },
    unblock() {
      blocked = false;
    },
    close() {
      blocked = true;
      drop();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** One server of a kind on its own ports and data directory, that can be killed and restarted. */
async function startServer(kind) {
  const dataDir = await mkdtemp(join(tmpdir(), `eg-faults-${kind}-`));
  const port = await freePort();
  const peerPort = await freePort();
  let running;
  const start = async () => {
    running =
      kind === 'etcd'
        ? await startEtcd({ name: 'faults', dataDir, clientPort: port, peerPort })
        : kind === 'zookeeper'
          ? await startZooKeeper({ dataDir, clientPort: port })
          : await startConsul({
              binary: `${CACHE}/consul/usr/bin/consul`,
              dataDir,
              httpPort: port,
            });
  };
  await start();
  const address = (via = port) =>
    kind === 'zookeeper' ? `127.0.0.1:${via}` : `http://127.0.0.1:${via}`;
  return {
    kind,
    port,
    address,
    /** A store on the server with default options. */
    store() {
      if (kind === 'etcd') return new EtcdStore({ hosts: [address()] });
      if (kind === 'zookeeper') return new ZooKeeperStore({ servers: address() });
      return new ConsulStore({ url: address() });
    },
    async kill() {
      await running?.stop({ kill: true });
      running = undefined;
    },
    start,
    async dispose() {
      await running?.stop({ kill: true });
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A gateway process (fault-instance.js), driven over IPC. */
function startInstance(env) {
  const child = fork(join(__dirname, 'fault-instance.js'), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = (cmd, reply, extra = {}) =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.cmd !== reply) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code) => reject(new Error(`instance exited with ${code} (asked ${cmd})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ cmd, ...extra });
    });
  const ready = new Promise((resolve, reject) => {
    child.once('message', (m) =>
      m.cmd === 'ready' ? resolve() : reject(new Error(String(m.cmd))),
    );
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}`)));
  });
  return { child, ask, ready };
}

/** Every key and value under a prefix, paged at one revision. */
async function storeDump(store, prefix) {
  const out = {};
  let after;
  let revision;
  for (;;) {
    const page = await store.list(prefix, { limit: 500, after, revision });
    revision = page.revision;
    for (const kv of page.items) out[kv.key] = kv.value;
    if (!page.more) return out;
    after = page.items[page.items.length - 1].key;
  }
}

/** Retries a read while a restarted server comes back. */
async function retrying(read, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(200);
    }
  }
}

/**
 * One seed: returns `{ seed, diverged, details }`, where `details` names, per diverging
 * instance, the keys that differ with what that instance's store link saw of them.
 */
async function faultRun(server, seed, log = () => undefined) {
  const random = prng(seed);
  const gatewayPrefix = `/faults-${process.pid}-${seed}-${Date.now()}`;
  const proxies = [];
  const instances = [];
  const admin = server.store();
  const schedule = [];
  try {
    for (let i = 0; i < 3; i++) {
      const proxy = await startProxy(server.port);
      proxies.push(proxy);
      const instance = startInstance({
        STORE_KIND: server.kind,
        STORE_ADDRESS: server.address(proxy.port),
        GATEWAY_PREFIX: gatewayPrefix,
        SEED: String(seed * 10 + i),
      });
      instances.push(instance);
      await instance.ready;
    }
    for (const { child } of instances) child.send({ cmd: 'start' });
    const plan = {
      beforeKill: 1000 + Math.floor(random() * 2000),
      down: 2000 + Math.floor(random() * 7000),
      beforeCut: 1000 + Math.floor(random() * 2000),
      victim: Math.floor(random() * 3),
      cut: 2000 + Math.floor(random() * 4000),
      afterCut: 500 + Math.floor(random() * 2000),
    };
    schedule.push(plan);
    log(`${server.kind} seed ${seed}: ${JSON.stringify(plan)}`);
    await sleep(plan.beforeKill);
    await server.kill();
    await sleep(plan.down);
    await server.start();
    await sleep(plan.beforeCut);
    proxies[plan.victim].block();
    await sleep(plan.cut);
    proxies[plan.victim].unblock();
    await sleep(plan.afterCut);
    const stats = [];
    for (const instance of instances) stats.push((await instance.ask('stop', 'stopped')).stats);
    // The store is read again each round: a write whose caller was told "unavailable" may still
    // land late, and the caches must follow it too.
    const deadline = Date.now() + CONVERGE_MS;
    let expected;
    let snapshots;
    for (;;) {
      expected = await retrying(() => storeDump(admin, gatewayPrefix + '/'));
      snapshots = [];
      for (const instance of instances) snapshots.push(await instance.ask('snapshot', 'snapshot'));
      const want = JSON.stringify(sortedEntries(expected));
      if (snapshots.every((s) => JSON.stringify(sortedEntries(s.snapshot)) === want)) {
        return { seed, diverged: false, stats, plan };
      }
      if (Date.now() > deadline) break;
      await sleep(250);
    }
    const details = [];
    for (let i = 0; i < instances.length; i++) {
      const have = snapshots[i].snapshot;
      const keys = [...new Set([...Object.keys(have), ...Object.keys(expected)])].filter(
        (key) => have[key] !== expected[key],
      );
      if (keys.length === 0) continue;
      const trace = await instances[i].ask('trace', 'trace', { keys });
      details.push({
        instance: i,
        health: snapshots[i].health,
        differs: keys.map((key) => ({
          key,
          cache: have[key],
          store: expected[key],
          seen: trace.keys[key],
        })),
        link: trace.link,
      });
    }
    return { seed, diverged: true, stats, plan, details };
  } finally {
    for (const { child } of instances) child.kill('SIGKILL');
    for (const proxy of proxies) await proxy.close();
    await admin.close().catch(() => undefined);
  }
}

/**
 * Runs seeds on each store kind, one at a time (each on a server of its own, started once per
 * kind). `onResult` sees each seed's result as it ends.
 */
async function runFaults({ kinds = KINDS, seeds, log = () => undefined, onResult = () => {} }) {
  const results = [];
  for (const kind of kinds) {
    const server = await startServer(kind);
    try {
      for (const seed of seeds) {
        const started = Date.now();
        const result = { kind, ...(await faultRun(server, seed, log)), ms: Date.now() - started };
        results.push(result);
        onResult(result);
      }
    } finally {
      await server.dispose();
    }
  }
  return results;
}

function sortedEntries(record) {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

module.exports = { runFaults, faultRun, startServer, KINDS };
