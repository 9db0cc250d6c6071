// A gateway process with a local journal running one connection (the gateway's own connection
// runner, as the package ships it), for the SIGKILL tests of the sources other than Kafka. Its
// settings come as JSON in argv[2]: the journal directory, the store (memory, or an etcd shared
// by a fleet), the connection, the lease time, and how long an intake plugin holds each of the
// connection's events before letting it through (so that a test can kill it mid-acceptance).
// It reports to the parent over IPC: `taken` (an event entered, not yet accepted), `id` (an
// event delivered to its local function) and, with `reportOwned`, `owned` (its units, 10 a second).
const { createGateway, EtcdStore, LocalJournal, MemoryStore } = require('../../dist');
const settings = JSON.parse(process.argv[2]);

(async () => {
  const store = settings.etcd
    ? new EtcdStore({ hosts: [settings.etcd], requestTimeout: 3000 })
    : new MemoryStore();
  const gateway = createGateway(store, {
    resyncInterval: 0,
    ...(settings.prefix ? { prefix: settings.prefix } : {}),
    journal: new LocalJournal({ directory: settings.directory }),
    connections: {
      instanceId: settings.instance,
      ...(settings.leaseTtl ? { leaseTtl: settings.leaseTtl } : {}),
    },
    plugins: [
      {
        name: 'hold',
        timeout: 10_000,
        onEvent: async (event, { via }) => {
          if (via !== 'source') return undefined;
          process.send({ taken: event.id, instance: settings.instance });
          if (settings.holdMs) await new Promise((resolve) => setTimeout(resolve, settings.holdMs));
          return undefined;
        },
      },
    ],
  });
  gateway.on('gateway.error', (error) => process.env.DEBUG_CHILD && console.error(error));
  await gateway.ready();
  const handler = async (event) => {
    await new Promise((resolve) => setTimeout(resolve, 2));
    process.send({ id: event.id, instance: settings.instance });
  };
  // A fleet shares its configuration: what another instance wrote first is only bound here.
  const taken = (error) => {
    if (error.code !== 'ALREADY_EXISTS') throw error;
  };
  await gateway
    .registerFunction({ functionId: 'fn', handler })
    .catch((error) => (taken(error), gateway.updateFunction({ functionId: 'fn', handler })));
  const { eventType } = settings.connection;
  await gateway.createEventType({ name: eventType }).catch(taken);
  if (gateway.listSubscriptions().length === 0) {
    await gateway.subscribe({ eventType, functionId: 'fn' });
  }
  await gateway.createConnection(settings.connection).catch(taken);
  process.send({ ready: true });
  // The units (Kinesis shards) this instance owns, for a test that times a takeover.
  if (settings.reportOwned) {
    setInterval(() => {
      const [connection] = gateway.health().connections ?? [];
      process.send({ owned: connection?.owned ?? [] });
    }, 100);
  }
})();
