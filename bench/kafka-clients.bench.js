// (j) The Kafka client choice: @platformatic/kafka 2 (the maintained client; ESM only, Node >=
// 22.22) against kafkajs 2.2.4 (the gateway's, last released 2023), side by side in one process
// on librdkafka's mock cluster (kcat; no real Kafka broker installs here, so absolute figures say
// little: the ratios are the point). Three measures, each client in turn, every round:
// - batch: one send of 1,000 messages, 20 batches, acks=-1;
// - single: a send per message, 1,000 in flight, 20 times (what each emit would do ungrouped);
// - consume: 50,000 messages read back from offset 0 by a new group, timed from the first
//   message to the last (joining the group is reported apart: it is mostly the clients' timers).
// @platformatic/kafka is not a dependency (its engines refuse Node 20, which `npm ci` runs on):
// install it anywhere and name the directory, then run on Node >= 22.22, e.g.
//   npm install --prefix /tmp/pk @platformatic/kafka@2
//   KAFKA_CLIENTS_PLATFORMATIC_DIR=/tmp/pk node bench/run.js kafka-clients
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { startKafkaMock } = require('../scripts/servers');
const { BENCH_EVENT, median } = require('./harness');

const BATCH = 1000;
const BATCHES = 20;
const CONSUME = 50_000;
const PARTITIONS = 4; // what the mock cluster gives an auto-created topic
const ROUNDS = 5;
const CONSUME_TIMEOUT = 60_000;

/** @platformatic/kafka, from KAFKA_CLIENTS_PLATFORMATIC_DIR or else the project's node_modules. */
async function loadPlatformatic() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 22)) {
    throw new Error(`@platformatic/kafka needs Node >= 22.22 (this is ${process.version})`);
  }
  const dir = process.env.KAFKA_CLIENTS_PLATFORMATIC_DIR;
  const specifier = dir
    ? pathToFileURL(join(dir, 'node_modules/@platformatic/kafka/dist/index.js')).href
    : '@platformatic/kafka';
  try {
    return await import(specifier);
  } catch (error) {
    throw new Error(
      'install @platformatic/kafka@2 (npm install --prefix DIR @platformatic/kafka@2) and set ' +
        `KAFKA_CLIENTS_PLATFORMATIC_DIR=DIR: ${error.message}`,
    );
  }
}

const value = (b, i) => JSON.stringify({ ...BENCH_EVENT, id: `${b}-${i}` });

/** CPU time of this process (both clients run here; the brokers are kcat's), in µs. */
const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/**
 * `BATCHES` rounds of `BATCH` messages through `send(messages)`: messages per second, and this
 * process's CPU µs per message (steadier than the rate on a shared machine).
 */
async function produceRate(send, perMessage) {
  const cpu = cpuNow();
  const started = performance.now();
  for (let b = 0; b < BATCHES; b++) {
    const messages = Array.from({ length: BATCH }, (_, i) => value(b, i));
    if (perMessage) await Promise.all(messages.map((m) => send([m])));
    else await send(messages);
  }
  const count = BATCH * BATCHES;
  return {
    rate: count / ((performance.now() - started) / 1000),
    cpuUs: (cpuNow() - cpu) / count,
  };
}

/** Adapters giving both clients the same three operations. */
function kafkajsClient(brokers) {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  return {
    name: 'kafkajs',
    async producer(topic) {
      const producer = kafka.producer();
      await producer.connect();
      return {
        send: (values) =>
          producer.send({ topic, acks: -1, messages: values.map((v) => ({ value: v })) }),
        close: () => producer.disconnect(),
      };
    },
    /** Resolves with { joinMs, rate, cpuUs } once `count` messages of `topic` are read. */
    async consume(topic, groupId, count) {
      const consumer = kafka.consumer({ groupId });
      const cpu = cpuNow();
      const started = performance.now();
      let first;
      let seen = 0;
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const done = new Promise((resolve) => {
        consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            first ??= performance.now();
            seen += batch.messages.length;
            if (seen >= count) resolve();
          },
        });
      });
      await within(done, () => `kafkajs read ${seen} of ${count}`);
      const ended = performance.now();
      const cpuUs = (cpuNow() - cpu) / count;
      await consumer.disconnect();
      return { joinMs: first - started, rate: count / ((ended - first) / 1000), cpuUs };
    },
    close: async () => undefined,
  };
}

function platformaticClient(brokers, pk) {
  return {
    name: '@platformatic/kafka',
    async producer(topic) {
      const producer = new pk.Producer({
        clientId: 'bench',
        bootstrapBrokers: brokers,
        serializers: pk.stringSerializers,
      });
      return {
        // acks per send: a send's own options default to the leader's ack alone.
        send: (values) =>
          producer.send({
            acks: pk.ProduceAcks.ALL,
            messages: values.map((v) => ({ topic, value: v })),
          }),
        close: () => producer.close(),
      };
    },
    async consume(topic, groupId, count) {
      const consumer = new pk.Consumer({
        groupId,
        clientId: 'bench',
        bootstrapBrokers: brokers,
        deserializers: pk.stringDeserializers,
      });
      const cpu = cpuNow();
      const started = performance.now();
      let first;
      let seen = 0;
      // From explicit offsets: the mock cluster garbles ListOffsets v4+ replies, which the
      // 'earliest' mode sends ("Cannot mix BigInt and other types" on every fetch).
      const stream = await consumer.consume({
        topics: [topic],
        autocommit: false,
        mode: pk.MessagesStreamModes.MANUAL,
        offsets: Array.from({ length: PARTITIONS }, (_, partition) => ({
          topic,
          partition,
          offset: 0n,
        })),
      });
      const done = new Promise((resolve, reject) => {
        stream.on('data', () => {
          first ??= performance.now();
          if (++seen === count) resolve();
        });
        stream.once('error', reject);
      });
      await within(done, () => `@platformatic/kafka read ${seen} of ${count}`);
      const ended = performance.now();
      const cpuUs = (cpuNow() - cpu) / count;
      await consumer.close(true);
      return { joinMs: first - started, rate: count / ((ended - first) / 1000), cpuUs };
    },
  };
}

/** `promise`, or an error naming `progress()` after CONSUME_TIMEOUT: a stuck client fails the run. */
async function within(promise, progress) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${progress()} in ${CONSUME_TIMEOUT} ms`)),
      CONSUME_TIMEOUT,
    );
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every measure of both clients, interleaved per round; medians. */
async function measureAll() {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const pk = await loadPlatformatic();
  const mock = await startKafkaMock();
  try {
    const clients = [kafkajsClient(mock.brokers), platformaticClient(mock.brokers, pk)];
    let n = 0;
    const topic = () => `bench-clients-${++n}`;
    const runs = Object.fromEntries(clients.map((c) => [c.name, {}]));
    // The topic to read back, written once by kafkajs: both clients read the same records.
    const source = topic();
    const writer = await clients[0].producer(source);
    for (let b = 0; b < CONSUME / BATCH; b++) {
      await writer.send(Array.from({ length: BATCH }, (_, i) => value(b, i)));
    }
    await writer.close();
    for (let round = 0; round <= ROUNDS; round++) {
      for (const client of clients) {
        const sink = await client.producer(topic());
        const batch = await produceRate(sink.send, false);
        const single = await produceRate(sink.send, true);
        await sink.close();
        const read = await client.consume(source, `bench-${++n}`, CONSUME);
        if (round === 0) continue; // warm-up: connections, JIT
        const figures = {
          batch: batch.rate,
          batchCpuUs: batch.cpuUs,
          single: single.rate,
          singleCpuUs: single.cpuUs,
          consume: read.rate,
          consumeCpuUs: read.cpuUs,
          joinMs: read.joinMs,
        };
        for (const [key, figure] of Object.entries(figures)) {
          (runs[client.name][key] ??= []).push(figure);
        }
      }
    }
    const medians = Object.fromEntries(
      Object.entries(runs).map(([name, r]) => [
        name,
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)])),
      ]),
    );
    return { medians, runs };
  } finally {
    await mock.stop();
  }
}

// One measurement serves the three rows (run.js runs them in turn).
let measured;
const measurement = () => (measured ??= measureAll());

/** One row: @platformatic/kafka ("ours", the candidate) against kafkajs (the client in use). */
function benchmark(measure, label, unit) {
  return {
    name: `kafka-clients-${measure}`,
    title: `(j) @platformatic/kafka vs kafkajs: ${label} (mock cluster, Node >= 22.22)`,
    goal: 'ratio >= 0.8',
    async run() {
      const { medians, runs } = await measurement();
      const o = medians['@platformatic/kafka'];
      const b = medians.kafkajs;
      const ratio = o[measure] / b[measure];
      return {
        ours: { value: o[measure], unit, label: '@platformatic/kafka' },
        baseline: { value: b[measure], unit, label: 'kafkajs' },
        ratio,
        difference: [
          `CPU ${o[`${measure}CpuUs`].toFixed(1)} vs ${b[`${measure}CpuUs`].toFixed(1)} µs/message`,
          measure === 'consume'
            ? `join + first fetch ${Math.round(o.joinMs)} vs ${Math.round(b.joinMs)} ms`
            : undefined,
        ]
          .filter(Boolean)
          .join('; '),
        details: { medians, runs },
        met: ratio >= 0.8,
      };
    },
  };
}

module.exports = [
  benchmark('batch', 'produce, 1,000 messages per send', 'messages/s'),
  benchmark('single', 'produce, a send per message (1,000 in flight)', 'messages/s'),
  benchmark('consume', 'consume 50,000 from offset 0', 'messages/s'),
];
