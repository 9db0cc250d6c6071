// Propagation of a write from one gateway to routable on another, over ZooKeeper and over Consul,
// against each server's raw client watch latency (write called to watch fired), in the same run.
const { propagationLatencies, propagationResult } = require('./harness');
const { rawConsul, rawZooKeeper, startServer } = require('./store-servers');

const SAMPLES = Number(process.env.SAMPLES ?? 500);
const WARM = 50;
let runs = 0;

/**
 * ZooKeeper: an exists-watch on the next node, fired by another client's create, then the read of
 * its value (ZooKeeper's notifications carry no data: every watcher reads after one).
 */
async function rawZooKeeperWatch(servers) {
  const [writer, reader] = [await rawZooKeeper(servers), await rawZooKeeper(servers)];
  const dir = `/raw-watch-${++runs}`;
  await writer.mkdirp(dir);
  const latencies = [];
  for (let i = 0; i < SAMPLES + WARM; i++) {
    const path = `${dir}/k${i}`;
    // The watch is set once the server has answered the exists call.
    let seen;
    await new Promise((set) => {
      seen = new Promise((fired) => reader.client.exists(path, fired, set));
    });
    const started = performance.now();
    await Promise.all([
      writer.create(path, Buffer.from(`v${i}`)),
      seen.then(() => reader.getData(path)),
    ]);
    if (i >= WARM) latencies.push(performance.now() - started);
  }
  writer.close();
  reader.close();
  return latencies;
}

/** Consul: a blocking query on a prefix, answered by another client's put. */
async function rawConsulWatch(url) {
  const writer = rawConsul(url);
  const reader = rawConsul(url);
  const dir = `raw-watch-${++runs}/`;
  await writer.kv.set(`${dir}k`, 'v');
  let [res] = await reader.kv.get({ key: dir, recurse: true, ctx: ctx() });
  const latencies = [];
  for (let i = 0; i < SAMPLES + WARM; i++) {
    const index = res.headers['x-consul-index'];
    const seen = reader.kv.get({ key: dir, recurse: true, index, wait: '10s', ctx: ctx() });
    // Let the blocking query reach the agent first (Consul answers a stale index at once anyway).
    await new Promise((r) => setTimeout(r, 2));
    const started = performance.now();
    await writer.kv.set(`${dir}k${i}`, `v${i}`);
    [res] = await seen;
    if (i >= WARM) latencies.push(performance.now() - started);
  }
  writer.destroy();
  reader.destroy();
  return latencies;
}

function ctx() {
  return Object.assign(new (require('node:events').EventEmitter)(), { includeResponse: true });
}

module.exports = ['zookeeper', 'consul'].map((kind) => ({
  name: `propagation-${kind}`,
  title: `write on one instance to routable on another, over ${kind}, vs the raw client's watch`,
  goal: 'p99 within 1 ms of raw',
  async run() {
    const server = await startServer(kind);
    const raw = kind === 'zookeeper' ? rawZooKeeperWatch : rawConsulWatch;
    try {
      await raw(server.address); // warm-up
      const baseline = await raw(server.address);
      const ours = await propagationLatencies(() => server.store(), SAMPLES);
      return propagationResult(ours, baseline);
    } finally {
      await server.stop();
    }
  },
}));
