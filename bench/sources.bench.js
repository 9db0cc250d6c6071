// (k) Connections (issue 27): messages per second from each source through a gateway connection
// to a local handler, against the raw client consuming the same messages in the same run, on the
// servers the tests start (scripts/servers.js): Kafka (librdkafka's mock cluster), SQS (moto),
// AMQP (rabbitmq-server). Both sides end each message the same way: its body parsed as JSON,
// handed to a function that counts it, and acknowledged (offset resolved, message deleted, ack
// sent). Each raw client is used plainly and as fast as it goes; where it offers two plain ways
// (kafkajs: eachMessage or eachBatch; SQS: DeleteMessage per message or DeleteMessageBatch), both
// run and the faster is the baseline. A round is timed from its first message to its last
// acknowledgement (joining a Kafka group takes seconds of the client's own timers, reported
// apart); CPU is this process's (process.cpuUsage) per message, the servers run in theirs.
// Rounds alternate raw and ours after a warm-up of each; the figures are medians.
const amqp = require('amqplib');
const { Kafka, logLevel } = require('kafkajs');
const { startKafkaMock, startMoto, startRabbit } = require('../scripts/servers');
const { median } = require('./harness');

const ROUNDS = 3;
const GOAL = 0.8;
/**
 * The connection's maxInFlight, which is also its AMQP prefetch (and the raw consumer's): the
 * default, 64, unless SOURCES_MAX_IN_FLIGHT says otherwise (to see how much of a gap is waiting).
 */
const PREFETCH = Number(process.env.SOURCES_MAX_IN_FLIGHT ?? 64);
const EVENT_TYPE = 'bench.message';
const body = (i) => JSON.stringify({ n: i, sku: `sku-${i % 100}`, qty: (i % 7) + 1 });

/**
 * Counts messages: the first starts the clock and the CPU meter, the `n`th stops them. `done`
 * resolves to the rate (messages/s over the n - 1 intervals) and this process's CPU µs per message.
 */
function meter(n) {
  let seen = 0;
  let started = 0;
  let cpu;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  return {
    done,
    get seen() {
      return seen;
    },
    /** One message handled. */
    count() {
      if (seen++ === 0) {
        started = performance.now();
        cpu = process.cpuUsage();
      }
    },
    /** Ends the measure now: call once the nth message is acknowledged. */
    end() {
      const { user, system } = process.cpuUsage(cpu);
      finish({
        rate: (n - 1) / ((performance.now() - started) / 1000),
        cpuUs: (user + system) / n,
      });
    },
  };
}

/** Polls (every 2 ms) until `check()`; fails after `timeout` ms naming `what`. */
async function until(check, what, timeout) {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * Ours: a gateway on a memory store whose local function counts and parses what it receives, and
 * one connection; measured until the nth event was delivered and every message acknowledged
 * (the connection's health: n accepted, none in flight).
 */
async function viaGateway(connection, n) {
  const { createGateway, MemoryStore } = require('../dist');
  const gateway = createGateway(new MemoryStore(), { resyncInterval: 0 });
  const m = meter(n);
  let bad = 0;
  await gateway.registerFunction({
    functionId: 'count',
    handler: (event) => {
      if (typeof event.data?.n !== 'number') bad++;
      m.count();
    },
  });
  await gateway.createEventType({ name: EVENT_TYPE });
  await gateway.subscribe({ eventType: EVENT_TYPE, functionId: 'count' });
  const joined = performance.now();
  await gateway.createConnection({ ...connection, eventType: EVENT_TYPE, maxInFlight: PREFETCH });
  const health = () => gateway.health().connections?.[0] ?? {};
  try {
    await until(() => m.seen > 0, 'the first event', 60_000);
    const firstMs = performance.now() - joined;
    await until(
      () => m.seen >= n && health().accepted >= n && health().inFlight === 0,
      `${n} events accepted and acknowledged (${m.seen} delivered, ${JSON.stringify(health())})`,
      300_000,
    );
    m.end();
    if (bad) throw new Error(`${bad} events without their data`);
    return { ...(await m.done), firstMs };
  } finally {
    await gateway.close();
  }
}

/** The result of one source: medians of the rounds, the baseline the fastest raw way. */
function sourceResult(rounds, rawLabels, oursLabel) {
  const med = (side, key) => median(rounds[side].map((r) => r[key]));
  const rawWays = Object.keys(rawLabels);
  const fastest = rawWays.reduce((a, b) => (med(b, 'rate') > med(a, 'rate') ? b : a));
  const o = med('ours', 'rate');
  const b = med(fastest, 'rate');
  const [oc, bc] = [med('ours', 'cpuUs'), med(fastest, 'cpuUs')];
  const range = (side) => rounds[side].map((r) => Math.round(r.rate));
  return {
    ours: { value: o, unit: 'messages/s', label: oursLabel },
    baseline: { value: b, unit: 'messages/s', label: rawLabels[fastest] },
    ratio: o / b,
    difference: `CPU ${oc.toFixed(1)} vs ${bc.toFixed(1)} µs/message (${(oc / bc).toFixed(2)}x)`,
    details: {
      rounds: Object.fromEntries(Object.keys(rounds).map((side) => [side, range(side)])),
      cpuUsPerMessage: Object.fromEntries(
        Object.keys(rounds).map((side) => [side, rounds[side].map((r) => +r.cpuUs.toFixed(2))]),
      ),
      rates: Object.fromEntries(Object.keys(rounds).map((side) => [side, med(side, 'rate')])),
      firstMessageMs: Object.fromEntries(
        Object.keys(rounds).map((side) => [side, med(side, 'firstMs')]),
      ),
      baseline: fastest,
    },
    met: o / b >= GOAL,
  };
}

/** Warm-up, then ROUNDS rounds alternating every raw way and ours; each gets fresh messages. */
async function alternate(ways) {
  const rounds = Object.fromEntries(Object.keys(ways).map((side) => [side, []]));
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [side, run] of Object.entries(ways)) {
      const result = await run();
      if (round > 0) rounds[side].push(result);
    }
  }
  return rounds;
}

// Kafka ------------------------------------------------------------------------------------------

const KAFKA_MESSAGES = 20_000;
let kafkaGroups = 0;

/** Raw kafkajs: a consumer group (the source's session and heartbeat) reading the topic. */
async function kafkaRaw(brokers, topic, mode) {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `bench-raw-${++kafkaGroups}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
  });
  const m = meter(KAFKA_MESSAGES);
  const handle = (message) => {
    if (typeof JSON.parse(message.value).n !== 'number') throw new Error('no n');
    m.count();
    if (m.seen === KAFKA_MESSAGES) m.end();
  };
  const joined = performance.now();
  let firstMs;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run(
      mode === 'batch'
        ? {
            eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
              firstMs ??= performance.now() - joined;
              for (const message of batch.messages) {
                handle(message);
                resolveOffset(message.offset);
              }
              await heartbeat();
            },
          }
        : {
            eachMessage: async ({ message }) => {
              firstMs ??= performance.now() - joined;
              handle(message);
            },
          },
    );
    return { ...(await m.done), firstMs };
  } finally {
    await consumer.disconnect();
  }
}

const kafkaBench = {
  name: 'source-kafka',
  title: `(k) ${KAFKA_MESSAGES} Kafka messages through a connection vs a raw kafkajs consumer group`,
  goal: `ratio >= ${GOAL}`,
  async run() {
    const mock = await startKafkaMock();
    try {
      const topic = 'bench-source';
      const producer = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      for (let i = 0; i < KAFKA_MESSAGES; i += 1000) {
        const messages = Array.from({ length: 1000 }, (_, j) => ({ value: body(i + j) }));
        await producer.send({ topic, acks: -1, messages });
      }
      await producer.disconnect();
      // Every round reads the whole topic with a group of its own.
      const rounds = await alternate({
        eachBatch: () => kafkaRaw(mock.brokers, topic, 'batch'),
        eachMessage: () => kafkaRaw(mock.brokers, topic, 'message'),
        ours: () =>
          viaGateway(
            {
              connectionId: `kafka${++kafkaGroups}`,
              type: 'kafka',
              source: {
                brokers: mock.brokers.join(','),
                topic,
                groupId: `bench-ours-${kafkaGroups}`,
              },
            },
            KAFKA_MESSAGES,
          ),
      });
      return sourceResult(
        rounds,
        {
          eachBatch: 'kafkajs group, eachBatch + resolveOffset',
          eachMessage: 'kafkajs group, eachMessage',
        },
        'kafka connection -> local function',
      );
    } finally {
      await mock.stop();
    }
  },
};

// SQS --------------------------------------------------------------------------------------------

// Per round, into a new queue: moto's SQS slows down as a queue fills (each message costs O(queue)).
const SQS_MESSAGES = 200;
const CREDENTIALS = { awsAccessKeyId: 'bench', awsSecretAccessKey: 'bench' };
let sqsQueues = 0;

function sqsClient(endpoint) {
  const { SQSClient } = require('@aws-sdk/client-sqs');
  return new SQSClient({
    region: 'us-east-1',
    endpoint,
    credentials: {
      accessKeyId: CREDENTIALS.awsAccessKeyId,
      secretAccessKey: CREDENTIALS.awsSecretAccessKey,
    },
    maxAttempts: 1,
  });
}

/** A new queue with SQS_MESSAGES messages in it, sent by batches of 10. */
async function sqsQueue(sqs) {
  const { CreateQueueCommand, SendMessageBatchCommand } = require('@aws-sdk/client-sqs');
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `src${++sqsQueues}` }));
  for (let i = 0; i < SQS_MESSAGES; i += 10) {
    const Entries = Array.from({ length: 10 }, (_, j) => ({
      Id: String(j),
      MessageBody: body(i + j),
    }));
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries }));
    if (out.Failed?.length) throw new Error(`${out.Failed.length} messages not sent`);
  }
  return QueueUrl;
}

/**
 * Raw @aws-sdk/client-sqs: one loop receiving up to 10 (long polling, as the source) and deleting
 * what it received, per message (`single`, as the source does) or in one DeleteMessageBatch.
 */
async function sqsRaw(endpoint, mode) {
  const {
    DeleteMessageBatchCommand,
    DeleteMessageCommand,
    ReceiveMessageCommand,
  } = require('@aws-sdk/client-sqs');
  const sqs = sqsClient(endpoint);
  try {
    const QueueUrl = await sqsQueue(sqs);
    const m = meter(SQS_MESSAGES);
    const started = performance.now();
    let firstMs;
    let deleted = 0;
    while (deleted < SQS_MESSAGES) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 }),
      );
      firstMs ??= performance.now() - started;
      for (const message of Messages) {
        if (typeof JSON.parse(message.Body).n !== 'number') throw new Error('no n');
        m.count();
      }
      if (mode === 'batch') {
        const Entries = Messages.map((message, i) => ({
          Id: String(i),
          ReceiptHandle: message.ReceiptHandle,
        }));
        const out = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries }));
        if (out.Failed?.length) throw new Error(`${out.Failed.length} messages not deleted`);
      } else {
        await Promise.all(
          Messages.map(({ ReceiptHandle }) =>
            sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle })),
          ),
        );
      }
      deleted += Messages.length;
    }
    m.end();
    return { ...(await m.done), firstMs };
  } finally {
    sqs.destroy();
  }
}

async function sqsOurs(endpoint) {
  const sqs = sqsClient(endpoint);
  try {
    const queueUrl = await sqsQueue(sqs);
    return await viaGateway(
      {
        connectionId: `sqs${sqsQueues}`,
        type: 'awssqs',
        source: { queueUrl, region: 'us-east-1', endpoint, ...CREDENTIALS },
      },
      SQS_MESSAGES,
    );
  } finally {
    sqs.destroy();
  }
}

const sqsBench = {
  name: 'source-sqs',
  title: `(k) ${SQS_MESSAGES} SQS messages (moto) through a connection vs a raw receive + delete loop`,
  goal: `ratio >= ${GOAL}`,
  async run() {
    const moto = await startMoto();
    try {
      const rounds = await alternate({
        single: () => sqsRaw(moto.endpoint, 'single'),
        batch: () => sqsRaw(moto.endpoint, 'batch'),
        ours: () => sqsOurs(moto.endpoint),
      });
      return sourceResult(
        rounds,
        {
          single: 'ReceiveMessage of 10 + DeleteMessage each',
          batch: 'ReceiveMessage of 10 + DeleteMessageBatch',
        },
        'awssqs connection -> local function',
      );
    } finally {
      await moto.stop();
    }
  },
};

// AMQP -------------------------------------------------------------------------------------------

const AMQP_MESSAGES = 10_000;
let amqpQueues = 0;

/** A new queue with AMQP_MESSAGES messages in it. */
async function amqpQueue(url) {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createConfirmChannel();
    const name = `src${++amqpQueues}`;
    await channel.assertQueue(name, { durable: false });
    for (let i = 0; i < AMQP_MESSAGES; i++) {
      channel.sendToQueue(name, Buffer.from(body(i)), { messageId: `m-${i}` });
    }
    await channel.waitForConfirms();
    return name;
  } finally {
    await connection.close();
  }
}

/** Raw amqplib: a consumer with the connection's prefetch, acking each message. */
async function amqpRaw(url) {
  const queue = await amqpQueue(url);
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    await channel.prefetch(PREFETCH);
    const m = meter(AMQP_MESSAGES);
    const started = performance.now();
    let firstMs;
    await channel.consume(
      queue,
      (message) => {
        firstMs ??= performance.now() - started;
        if (typeof JSON.parse(message.content).n !== 'number') throw new Error('no n');
        m.count();
        channel.ack(message);
        if (m.seen === AMQP_MESSAGES) m.end();
      },
      { noAck: false },
    );
    return { ...(await m.done), firstMs };
  } finally {
    await connection.close();
  }
}

const amqpBench = {
  name: 'source-amqp',
  title: `(k) ${AMQP_MESSAGES} AMQP messages (RabbitMQ) through a connection vs raw amqplib consume + ack, prefetch ${PREFETCH}`,
  goal: `ratio >= ${GOAL}`,
  async run() {
    const rabbit = await startRabbit();
    try {
      const rounds = await alternate({
        consume: () => amqpRaw(rabbit.url),
        ours: async () =>
          viaGateway(
            {
              connectionId: `amqp${amqpQueues + 1}`,
              type: 'amqp',
              source: { url: rabbit.url, queue: await amqpQueue(rabbit.url) },
            },
            AMQP_MESSAGES,
          ),
      });
      return sourceResult(
        rounds,
        { consume: `amqplib consume + ack each, prefetch ${PREFETCH}` },
        'amqp connection -> local function',
      );
    } finally {
      await rabbit.stop();
    }
  },
};

module.exports = [kafkaBench, sqsBench, amqpBench];
