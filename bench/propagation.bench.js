// (e) Propagation of a write from one gateway instance to another over etcd (write called to
// routable on the other instance) against raw etcd put-to-watch latency, in the same run.
const { EtcdStore, startEtcd } = require('../dist');
const { propagationLatencies, propagationResult } = require('./harness');

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

module.exports = {
  name: 'propagation',
  title: '(e) write on one instance to routable on another, over etcd, vs raw etcd put-to-watch',
  goal: 'p99 within 1 ms of raw etcd',
  async run() {
    const etcd = await startEtcd({ name: 'bench' });
    try {
      await rawEtcd(etcd.endpoints); // warm-up
      const raw = await rawEtcd(etcd.endpoints);
      const ours = await propagationLatencies(
        () => new EtcdStore({ hosts: etcd.endpoints }),
        SAMPLES,
      );
      return propagationResult(ours, raw);
    } finally {
      await etcd.stop();
    }
  },
};
