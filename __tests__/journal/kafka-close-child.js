// Closes a gateway whose Kafka brokers just died, `delay` ms after their death, then checks the
// process is idle (kafkajs 2.2.4 could spin forever there, starving every timer: see
// lib/clients/kafka-client.ts). Exits 0 when it closed and stayed idle; a hang is the parent's
// timeout.
const { createGateway, KafkaJournal, MemoryStore } = require('../../dist');
const { startKafkaMock } = require('../../scripts/servers');

const delay = Number(process.argv[2]);

(async () => {
  const mock = await startKafkaMock();
  let delivered = 0;
  const journal = new KafkaJournal({
    client: { brokers: mock.brokers, retry: { retries: 1, initialRetryTime: 100 } },
    topic: 'close-test',
    consumer: { sessionTimeout: 6000, heartbeatInterval: 300 },
    commitInterval: 20,
  });
  const gateway = createGateway(new MemoryStore(), { journal, resyncInterval: 0 });
  gateway.on('gateway.error', () => {});
  await gateway.registerFunction({ functionId: 'fn', handler: () => void delivered++ });
  await gateway.createEventType({ name: 'job.created' });
  await gateway.subscribe({ eventType: 'job.created', functionId: 'fn' });
  await gateway.ready();
  await gateway.emit({ specversion: '1.0', id: 'a', source: '/t', type: 'job.created' });
  while (delivered === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  await mock.stop();
  await new Promise((resolve) => setTimeout(resolve, delay));
  await gateway.close();
  const cpu = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const used = process.cpuUsage(cpu);
  const ms = (used.user + used.system) / 1000;
  process.exit(ms < 300 ? 0 : 3);
})().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
