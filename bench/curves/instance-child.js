// One gateway instance of the instances curve, in its own process: a gateway on the store at
// `address`, reporting to its parent over IPC when its cache routes each new subscription (the
// time read here, so IPC delay on a loaded machine is not counted), its RSS, and the CPU it spent
// per applied change between 'cpu-start' and 'cpu-stop'.
const { createGateway, EtcdStore } = require('../../dist');
const { storeAt } = require('../store-servers');

const [kind, address, prefix] = process.argv.slice(2);

const EVENT = { specversion: '1.0', id: 'probe', source: '/bench', type: 'bench.t', data: {} };

async function main() {
  const store =
    kind === 'etcd' ? new EtcdStore({ hosts: JSON.parse(address) }) : storeAt(kind, address);
  const gateway = createGateway(store, { resyncInterval: 0, prefix });
  await gateway.ready();
  let applied = 0;
  let cpu;
  gateway.on('config.changed', (changes) => {
    const at = performance.timeOrigin + performance.now();
    for (const change of changes) {
      if (change.resource !== 'subscription' || !change.record) continue;
      applied++;
      // Routable: the lookup an emit would do finds it (config.changed follows the router's apply).
      const { subscriptions } = gateway.explain({ event: EVENT, path: change.record.path });
      if (!subscriptions.some((s) => s.subscriptionId === change.id)) {
        process.send({ error: `${change.id} changed but is not routed` });
      }
      process.send({ routed: change.id, at });
    }
  });
  process.on('message', (message) => {
    if (message === 'cpu-start') {
      applied = 0;
      cpu = process.cpuUsage();
      process.send({ cpuStarted: true });
    } else if (message === 'cpu-stop') {
      const used = process.cpuUsage(cpu);
      process.send({ cpuMs: (used.user + used.system) / 1000, applied, rss: rss() });
    } else if (message === 'rss') {
      process.send({ rss: rss() });
    }
  });
  process.send({ ready: true, rss: rss() });
}

function rss() {
  return process.memoryUsage().rss;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
