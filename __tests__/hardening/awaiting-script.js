// A plain script, as a user writes one: it awaits one operation on a store whose server is gone
// (SERVER_PID is killed first, when given), prints how it ended and closes the gateway and the store. It never
// holds the process open itself while it awaits: whatever the operation waits on must, or the
// process ends with the await unsettled (and exit code 0).
const { createGateway, ConsulStore, EtcdStore, ZooKeeperStore } = require('../../dist');

const kind = process.env.STORE_KIND;
const address = process.env.STORE_ADDRESS;
const mode = process.env.MODE;
const tuning = { requestTimeout: 1500 };
const store =
  kind === 'etcd'
    ? new EtcdStore({ hosts: [address], ...tuning })
    : kind === 'zookeeper'
      ? new ZooKeeperStore({ servers: address, sessionTimeout: 4000, ...tuning })
      : new ConsulStore({ url: address, ...tuning });
const gateway = createGateway(store, { readyTimeout: 1500, resyncInterval: 0 });

async function main() {
  if (mode === 'ready') {
    await gateway.ready();
    return 'ready';
  }
  await gateway.ready();
  process.kill(Number(process.env.SERVER_PID), 'SIGKILL');
  // Long enough for the watch to see the server gone: then nothing but the write is pending.
  await new Promise((resolve) => setTimeout(resolve, 500));
  if (mode === 'put') {
    await store.put('/awaited/key', 'value');
    return 'put';
  }
  await gateway.registerFunction({
    functionId: 'f',
    type: 'http',
    provider: { url: 'http://127.0.0.1:1/f' },
  });
  return 'registered';
}

main()
  .then(
    (what) => console.log(`resolved ${what}`),
    (error) => {
      console.log(`rejected ${error.code ?? error}`);
      process.exitCode = 1;
    },
  )
  .finally(() => gateway.close())
  .finally(() => store.close());
