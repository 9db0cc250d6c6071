// A gateway process with a local journal whose app configures itself after the gateway is
// created, for the resume-order tests. `memory`: an in-memory store, empty at each start; the
// parent asks it to register an http function (as the README's quick start does, after `ready()`).
// `etcd`: a persistent store that already holds a local function; the parent asks it to bind the
// handler after `ready()`. It emits what the parent asks and tells it every dead letter.
const { createGateway, EtcdStore, LocalJournal, MemoryStore } = require('../../dist');

const [directory, mode, where, waitForFunctions] = process.argv.slice(2);

(async () => {
  const store = mode === 'etcd' ? new EtcdStore({ hosts: [where] }) : new MemoryStore();
  const gateway = createGateway(store, {
    resyncInterval: 0,
    retry: { maxAttempts: 100, initialDelay: 5, maxDelay: 50, maxAge: 600_000 },
    journal: new LocalJournal({
      directory,
      ...(waitForFunctions ? { waitForFunctions: Number(waitForFunctions) } : {}),
    }),
    onDeadLetter: (letter) =>
      process.send({ deadLettered: letter.event.id, reason: letter.reason }),
  });
  gateway.on('gateway.error', (error) => process.send({ error: error.message }));
  await gateway.ready();
  process.on('message', async (message) => {
    if (message.register) {
      await gateway.registerFunction({ functionId: 'fn', type: 'http', provider: { url: where } });
      await gateway.createEventType({ name: 'job.created' });
      await gateway.subscribe({ eventType: 'job.created', functionId: 'fn' });
      process.send({ registered: true });
    } else if (message.bind) {
      gateway.bindLocalHandler({
        functionId: 'fn',
        handler: (event) => {
          process.send({ received: event.id });
          // `hold`: never answers, so the delivery stays unfinished until the kill.
          return message.bind === 'hold' ? new Promise(() => undefined) : 'ok';
        },
      });
      process.send({ bound: true });
    } else if (message.emit) {
      const id = message.emit;
      gateway.emit({ specversion: '1.0', id, source: '/resume', type: 'job.created' }).then(
        () => process.send({ id, accepted: true }),
        (error) => process.send({ id, accepted: false, code: error.code }),
      );
    } else if (message.health) {
      process.send({ health: gateway.health(), metrics: gateway.metrics() });
    }
  });
  process.send({ ready: true });
})();
