// A gateway process with a local journal running one Kafka connection (the gateway's own
// connection runner, as the package ships it), for the SIGKILL test: its local function reports
// each event's `n` to the parent over IPC.
const { createGateway, LocalJournal, MemoryStore } = require('../../dist');
const [directory, brokers, topic] = process.argv.slice(2);

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
  gateway.on('gateway.error', (error) => process.env.DEBUG_CHILD && console.error(error));
  await gateway.createConnection({
    connectionId: 'jobs',
    type: 'kafka',
    source: { brokers, topic },
    eventType: 'job.created',
    maxInFlight: 8,
  });
  process.send({ ready: true });
})();
