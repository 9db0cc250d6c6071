// A gateway process with a local journal running one Kafka connection, for the SIGKILL test:
// its local function reports each event's `n` to the parent over IPC.
const { createGateway, LocalJournal, MemoryStore } = require('../../dist');
// The runner is not a package entry yet: the parent bundles it (with esbuild) for this process.
const [directory, brokers, topic, runnerBundle] = process.argv.slice(2);
const { ConnectionRunner } = require(runnerBundle);
const leasePrefix = '/serverless-event-gateway.leases/';

(async () => {
  const store = new MemoryStore();
  const gateway = createGateway(store, {
    resyncInterval: 0,
    journal: new LocalJournal({ directory }),
  });
  await gateway.ready();
  await gateway.registerFunction({
    functionId: 'fn',
    handler: async (event) => {
      await new Promise((resolve) => setTimeout(resolve, 2));
      process.send({ n: event.data.n });
    },
  });
  await gateway.createEventType({ name: 'job.created' });
  await gateway.subscribe({ eventType: 'job.created', functionId: 'fn' });
  const runner = new ConnectionRunner({
    connections: {
      all: () => gateway.listConnections({ secrets: true }),
      get: (space, connectionId) =>
        gateway
          .listConnections({ space, secrets: true })
          .find((c) => c.connectionId === connectionId),
    },
    store,
    leasePrefix,
    entry: (event, { space }) => gateway.emit(event, { space }),
    reportError: (error) => process.env.DEBUG_CHILD && console.error(error),
  });
  gateway.on('config.changed', (changes) => runner.apply(changes));
  runner.start();
  await gateway.createConnection({
    connectionId: 'jobs',
    type: 'kafka',
    source: { brokers, topic },
    eventType: 'job.created',
    maxInFlight: 8,
  });
  process.send({ ready: true });
})();
