// A gateway process with a Kafka journal, for the fleet tests: it configures one http function
// (the parent's server, at a path naming this instance) on its own in-memory store, joins the
// consumer group, then emits what the parent asks over IPC and answers per event.
const { createGateway, KafkaJournal } = require('../../dist');
const { childStore } = require('./child-store');

const [brokers, topic, url, concurrency] = process.argv.slice(2);

(async () => {
  const store = await childStore(url);
  const gateway = createGateway(store, {
    resyncInterval: 0,
    concurrency: Number(concurrency),
    retry: { maxAttempts: 100, initialDelay: 5, maxDelay: 50, maxAge: 600_000 },
    journal: new KafkaJournal({
      client: { brokers: brokers.split(','), retry: { retries: 2, initialRetryTime: 100 } },
      topic,
      groupId: 'fleet',
      consumer: { sessionTimeout: 6000, heartbeatInterval: 300, rebalanceTimeout: 6000 },
      commitInterval: 20,
    }),
  });
  gateway.on('gateway.error', () => {});
  await gateway.ready();
  process.on('message', ({ id }) => {
    gateway.emit({ specversion: '1.0', id, source: '/fleet', type: 'job.created' }).then(
      () => process.send({ id, accepted: true }),
      (error) => process.send({ id, accepted: false, code: error.code }),
    );
  });
  process.on('SIGTERM', () => gateway.close().then(() => process.exit(0)));
  process.send({ ready: true });
})();
