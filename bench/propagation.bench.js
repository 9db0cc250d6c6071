// (e) Propagation of a write from one gateway instance to another over etcd (write called to
// routable on the other instance) against raw etcd put-to-watch latency, in the same run.
const { createGateway, EtcdStore, startEtcd } = require('../dist');
const { percentile } = require('./harness');

const SAMPLES = 500;

async function rawEtcd(endpoints) {
  const writer = new EtcdStore({ hosts: endpoints });
  const reader = new EtcdStore({ hosts: endpoints });
  const latencies = [];
  let resolveNext;
  const watcher = await reader.client.watch().prefix('/raw/').create();
  watcher.on('put', () => resolveNext?.());
  for (let i = 0; i < SAMPLES + 50; i++) {
    const seen = new Promise((resolve) => (resolveNext = resolve));
    const started = performance.now();
    await writer.client.put(`/raw/k${i}`).value(`v${i}`);
    await seen;
    if (i >= 50) latencies.push(performance.now() - started);
  }
  await watcher.cancel();
  await Promise.all([writer.close(), reader.close()]);
  return latencies;
}

async function viaGateways(endpoints) {
  const a = createGateway(new EtcdStore({ hosts: endpoints }), {
    resyncInterval: 0,
    prefix: '/bench-propagation',
  });
  const b = createGateway(new EtcdStore({ hosts: endpoints }), {
    resyncInterval: 0,
    prefix: '/bench-propagation',
  });
  await Promise.all([a.ready(), b.ready()]);
  const latencies = [];
  for (let i = 0; i < SAMPLES + 50; i++) {
    const routable = new Promise((resolve) => b.once('config.changed', resolve));
    const started = performance.now();
    await Promise.all([
      a.registerFunction({
        functionId: `f${i}`,
        type: 'http',
        provider: { url: 'http://127.0.0.1:1/' },
      }),
      routable,
    ]);
    if (i >= 50) latencies.push(performance.now() - started);
  }
  for (const g of [a, b]) {
    await g.close();
    await g.store.close();
  }
  return latencies;
}

module.exports = {
  name: 'propagation',
  title: '(e) write on one instance to routable on another, over etcd, vs raw etcd put-to-watch',
  goal: 'p99 within 1 ms of raw etcd',
  async run() {
    const etcd = await startEtcd({ name: 'bench' });
    try {
      await rawEtcd(etcd.endpoints); // warm-up
      const raw = await rawEtcd(etcd.endpoints);
      const ours = await viaGateways(etcd.endpoints);
      const o = { p50: percentile(ours, 50), p99: percentile(ours, 99) };
      const b = { p50: percentile(raw, 50), p99: percentile(raw, 99) };
      return {
        ours: { value: o.p99, unit: 'ms p99', label: `p50 ${o.p50.toFixed(2)} ms` },
        baseline: { value: b.p99, unit: 'ms p99', label: `p50 ${b.p50.toFixed(2)} ms` },
        ratio: o.p99 / b.p99,
        difference: `p99 +${(o.p99 - b.p99).toFixed(2)} ms, p50 +${(o.p50 - b.p50).toFixed(2)} ms`,
        details: { ours: o, raw: b },
        met: o.p99 - b.p99 <= 1,
      };
    } finally {
      await etcd.stop();
    }
  },
};
