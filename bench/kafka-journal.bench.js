// (i) The Kafka journal's accept rate (emits resolved once produced with acks=-1) against raw
// kafkajs sends of the same events to the same topic, on librdkafka's mock cluster (kcat; no
// real Kafka broker installs here, so absolute figures say little: the ratio is the point).
// Baseline: the fastest plain use, one `send` of each batch's 1,000 messages; a `send` per
// event (what each emit would do without grouping) is reported beside it, and the CPU time per
// event of each side (and of the gateway without a journal), which moves far less than the rates.
const { Kafka, logLevel } = require('kafkajs');
const { startKafkaMock } = require('../scripts/servers');
const { BENCH_EVENT, median } = require('./harness');

const BATCH = 1000;
const BATCHES = 10;
const ROUNDS = 5;

/** CPU time (user + system, this process) per event since `since`, in µs. */
function cpuPer(since) {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / (BATCH * BATCHES);
}

/**
 * Emits through a gateway with the Kafka journal (or, `journaled` false, the same gateway
 * without one: what the gateway itself costs per event); events/s and CPU µs per event.
 */
async function ours(brokers, topic, journaled = true) {
  const { createGateway, KafkaJournal, MemoryStore } = require('../dist');
  const journal = journaled
    ? new KafkaJournal({ client: { brokers }, topic, groupId: `bench-${topic}` })
    : undefined;
  const gw = createGateway(new MemoryStore(), {
    resyncInterval: 0,
    queueSize: BATCH * BATCHES,
    ...(journal ? { journal } : {}),
  });
  await gw.registerFunction({ functionId: 'handler', handler: () => undefined });
  await gw.createEventType({ name: BENCH_EVENT.type });
  await gw.subscribe({ eventType: BENCH_EVENT.type, functionId: 'handler' });
  await gw.ready();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let b = 0; b < BATCHES; b++) {
    await Promise.all(
      Array.from({ length: BATCH }, (_, i) => gw.emit({ ...BENCH_EVENT, id: `${b}-${i}` })),
    );
  }
  const rate = (BATCH * BATCHES) / ((performance.now() - started) / 1000);
  const cpuPerEvent = cpuPer(cpu);
  await gw.close();
  return { rate, cpu: cpuPerEvent };
}

/** Raw kafkajs: the same events, as JSON, `perEvent` one send each or one send per batch. */
async function raw(brokers, topic, perEvent) {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  const value = (b, i) => JSON.stringify({ ...BENCH_EVENT, id: `${b}-${i}` });
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let b = 0; b < BATCHES; b++) {
    if (perEvent) {
      await Promise.all(
        Array.from({ length: BATCH }, (_, i) =>
          producer.send({ topic, acks: -1, messages: [{ value: value(b, i) }] }),
        ),
      );
    } else {
      const messages = Array.from({ length: BATCH }, (_, i) => ({ value: value(b, i) }));
      await producer.send({ topic, acks: -1, messages });
    }
  }
  const rate = (BATCH * BATCHES) / ((performance.now() - started) / 1000);
  const cpuPerEvent = cpuPer(cpu);
  await producer.disconnect();
  return { rate, cpu: cpuPerEvent };
}

module.exports = {
  name: 'kafka-journal',
  title: '(i) Kafka journal accept rate vs raw kafkajs send of the same events (mock cluster)',
  goal: 'ratio >= 0.8',
  async run() {
    process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
    const mock = await startKafkaMock();
    try {
      let n = 0;
      const topic = () => `bench-${++n}`;
      await ours(mock.brokers, topic()); // warm-up
      const o = [];
      const batched = [];
      const single = [];
      const plain = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Alternated: the mock's speed drifts, and whichever runs second meets the first's garbage.
        if (round % 2) o.push(await ours(mock.brokers, topic()));
        batched.push(await raw(mock.brokers, topic(), false));
        if (round % 2 === 0) o.push(await ours(mock.brokers, topic()));
        single.push(await raw(mock.brokers, topic(), true));
        plain.push(await ours(mock.brokers, topic(), false));
      }
      const value = median(o.map((r) => r.rate));
      const baseline = median(batched.map((r) => r.rate));
      // Each round's pair ran back to back: the median of their ratios resists a busy machine
      // (the mock cluster's own speed moves by 2x between minutes).
      const ratio = median(o.map((r, i) => r.rate / batched[i].rate));
      // CPU per event moves far less than the rates under load: the figure to find costs by.
      const cpu = {
        ours: median(o.map((r) => r.cpu)),
        raw: median(batched.map((r) => r.cpu)),
        gatewayAlone: median(plain.map((r) => r.cpu)),
      };
      const perEvent = median(single.map((r) => r.rate));
      return {
        ours: { value, unit: 'events/s', label: 'emit with KafkaJournal' },
        baseline: { value: baseline, unit: 'events/s', label: 'raw send, 1,000 per request' },
        ratio,
        difference: `CPU µs/event: ours ${cpu.ours.toFixed(1)}, raw ${cpu.raw.toFixed(1)}, the gateway without a journal ${cpu.gatewayAlone.toFixed(1)}; raw send per event: ${Math.round(perEvent)} events/s (ours ${(value / perEvent).toFixed(2)}x)`,
        details: {
          ours: o,
          batched,
          single: single.map((r) => r.rate),
          cpu,
          loadavg: require('node:os').loadavg(),
        },
        met: ratio >= 0.8,
      };
    } finally {
      await mock.stop();
    }
  },
};
