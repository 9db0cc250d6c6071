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
 * Counts what a kafkajs client sends and fetches while `counting()` is true: produce requests,
 * records and their value bytes (by wrapping `send`), and fetch requests with their response
 * bytes (kafkajs's REQUEST events). What the journaled side does more than the raw side, per
 * 1,000 events.
 */
function counters() {
  const c = { produces: 0, records: 0, recordBytes: 0, fetches: 0, fetchBytes: 0, on: false };
  return {
    c,
    producer(producer) {
      const send = producer.send.bind(producer);
      producer.send = (request) => {
        if (c.on) {
          c.produces++;
          for (const m of request.messages) {
            c.records++;
            c.recordBytes += Buffer.byteLength(m.value);
          }
        }
        return send(request);
      };
    },
    consumer(consumer) {
      consumer.on(consumer.events.REQUEST, ({ payload }) => {
        if (c.on && payload.apiName === 'Fetch') {
          c.fetches++;
          c.fetchBytes += payload.size;
        }
      });
    },
    /** Per 1,000 events. */
    report(events) {
      const k = events / 1000;
      return {
        producesPer1k: c.produces / k,
        recordsPer1k: c.records / k,
        bytesPerEvent: c.recordBytes / events,
        fetchesPer1k: c.fetches / k,
        fetchKBPer1k: c.fetchBytes / 1024 / k,
      };
    },
  };
}

/**
 * Emits through a gateway with the Kafka journal (or, `journaled` false, the same gateway
 * without one: what the gateway itself costs per event); events/s and CPU µs per event.
 */
async function ours(brokers, topic, journaled = true, joined = false) {
  const { createGateway, KafkaJournal, MemoryStore } = require('../dist');
  const journal = journaled
    ? new KafkaJournal({ client: { brokers }, topic, groupId: `bench-${topic}` })
    : undefined;
  const gw = createGateway(new MemoryStore(), {
    resyncInterval: 0,
    queueSize: BATCH * BATCHES,
    ...(journal ? { journal } : {}),
  });
  let delivered = 0;
  await gw.registerFunction({ functionId: 'handler', handler: () => void delivered++ });
  await gw.createEventType({ name: BENCH_EVENT.type });
  await gw.subscribe({ eventType: BENCH_EVENT.type, functionId: 'handler' });
  await gw.ready();
  if (joined) {
    // The steady state: this instance's consumer has joined its group (kafkajs's rebalance delay,
    // ~3 s) and fetches and delivers what the run records, while it records.
    const consumer = journal.consumer.consumer;
    await new Promise((resolve) => {
      consumer.on(consumer.events.GROUP_JOIN, resolve);
      setTimeout(resolve, 15_000);
    });
    // And made a first delivery: past its join's reads, in its fetch loop.
    await gw.emit({ ...BENCH_EVENT, id: 'probe' });
    while (delivered === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const count = counters();
  // The journal's clients (private fields, read here only to count what they send).
  if (journal) {
    count.producer(journal.producer);
    count.consumer(journal.consumer.consumer);
  }
  count.c.on = true;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let b = 0; b < BATCHES; b++) {
    await Promise.all(
      Array.from({ length: BATCH }, (_, i) => gw.emit({ ...BENCH_EVENT, id: `${b}-${i}` })),
    );
  }
  const rate = (BATCH * BATCHES) / ((performance.now() - started) / 1000);
  const cpuPerEvent = cpuPer(cpu);
  count.c.on = false;
  await gw.close();
  return { rate, cpu: cpuPerEvent, ...count.report(BATCH * BATCHES) };
}

/** Raw kafkajs: the same events, as JSON, `perEvent` one send each or one send per batch. */
async function raw(brokers, topic, perEvent) {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  const count = counters();
  count.producer(producer);
  count.c.on = true;
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
  count.c.on = false;
  await producer.disconnect();
  return { rate, cpu: cpuPerEvent, ...count.report(BATCH * BATCHES) };
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
      const steady = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Alternated: the mock's speed drifts, and whichever runs second meets the first's garbage.
        if (round % 2) o.push(await ours(mock.brokers, topic()));
        batched.push(await raw(mock.brokers, topic(), false));
        if (round % 2 === 0) o.push(await ours(mock.brokers, topic()));
        single.push(await raw(mock.brokers, topic(), true));
        plain.push(await ours(mock.brokers, topic(), false));
        // The joined run against the batched raw run of its round (the same minutes).
        steady.push(await ours(mock.brokers, topic(), true, true));
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
      const steadyRatio = median(steady.map((r, i) => r.rate / batched[i].rate));
      const per1k = (side) => {
        const pick = (key) => median(side.map((r) => r[key])).toFixed(1);
        return `${pick('producesPer1k')} produce requests, ${pick('recordsPer1k')} records, ${pick('bytesPerEvent')} B/event, ${pick('fetchesPer1k')} fetches (${pick('fetchKBPer1k')} KiB)`;
      };
      return {
        ours: { value, unit: 'events/s', label: 'emit with KafkaJournal' },
        baseline: { value: baseline, unit: 'events/s', label: 'raw send, 1,000 per request' },
        ratio,
        difference: `CPU µs/event: ours ${cpu.ours.toFixed(1)}, raw ${cpu.raw.toFixed(1)}, the gateway without a journal ${cpu.gatewayAlone.toFixed(1)}; raw send per event: ${Math.round(perEvent)} events/s (ours ${(value / perEvent).toFixed(2)}x); per 1,000 events: ours ${per1k(o)}; raw ${per1k(batched)}; with the group joined (fetching and delivering during the run): ratio ${steadyRatio.toFixed(2)}, CPU ${median(steady.map((r) => r.cpu)).toFixed(1)} µs/event, ${per1k(steady)}`,
        details: {
          ours: o,
          batched,
          single: single.map((r) => r.rate),
          steady,
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
