// A gateway instance in its own process, driven by a test over IPC: it keeps writing random
// configuration while told to, and reports its cache when asked.
const { createGateway, ConsulStore, EtcdStore, ZooKeeperStore } = require('../../dist');

// The same choice as storeAt() in store-servers.ts, over the built package.
const kind = process.env.STORE_KIND;
const address = process.env.STORE_ADDRESS;
const tuning = { requestTimeout: 3000, watchCheckInterval: 500 };
const prefix = process.env.GATEWAY_PREFIX;
const name = process.env.INSTANCE_NAME;
let seed = Number(process.env.SEED ?? 1);
const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;

const store =
  kind === 'etcd'
    ? new EtcdStore({ hosts: address.split(','), ...tuning })
    : kind === 'zookeeper'
      ? new ZooKeeperStore({ servers: address, sessionTimeout: 4000, ...tuning })
      : new ConsulStore({ url: address, ...tuning });
const gateway = createGateway(store, { resyncInterval: 2000, prefix });
let writing = false;
const stats = { ok: 0, refused: 0, unavailable: 0 };

let loop = Promise.resolve();

async function writeLoop() {
  while (writing) {
    const id = `${name}-f${Math.floor(random() * 20)}`;
    try {
      const roll = random();
      if (roll < 0.4)
        await gateway.registerFunction({
          functionId: id,
          type: 'http',
          provider: { url: `http://127.0.0.1:1/${id}` },
        });
      else if (roll < 0.7)
        await gateway.subscribe({
          eventType: 'http.request',
          functionId: id,
          path: `/${Math.floor(random() * 5)}`,
        });
      else if (roll < 0.85) {
        const subs = gateway.listSubscriptions().filter((s) => s.functionId.startsWith(name));
        if (subs.length)
          await gateway.unsubscribe({
            subscriptionId: subs[Math.floor(random() * subs.length)].subscriptionId,
          });
      } else await gateway.deleteFunction({ functionId: id });
      stats.ok++;
    } catch (error) {
      if (error.code === 'STORE_UNAVAILABLE') stats.unavailable++;
      else stats.refused++;
    }
  }
}

process.on('message', async (message) => {
  if (message.cmd === 'start') {
    writing = true;
    loop = writeLoop();
  } else if (message.cmd === 'stop') {
    writing = false;
    // Reply once the write in flight has ended: the test reads the store next.
    await loop;
    process.send({ cmd: 'stopped', stats });
  } else if (message.cmd === 'snapshot') {
    process.send({ cmd: 'snapshot', snapshot: gateway.configSnapshot(), health: gateway.health() });
  } else if (message.cmd === 'exit') {
    await gateway.close();
    await store.close();
    process.exit(0);
  }
});

gateway.ready().then(() => process.send({ cmd: 'ready' }));
