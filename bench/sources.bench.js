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
const { sourceBench, meter, viaGateway, body, PREFETCH } = require('./source-runs');

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

const kafkaBench = sourceBench({
  name: 'source-kafka',
  title: `(k) ${KAFKA_MESSAGES} Kafka messages through a connection vs a raw kafkajs consumer group`,
  start: startKafkaMock,
  async ways(mock) {
    const topic = 'bench-source';
    const producer = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    for (let i = 0; i < KAFKA_MESSAGES; i += 1000) {
      const messages = Array.from({ length: 1000 }, (_, j) => ({ value: body(i + j) }));
      await producer.send({ topic, acks: -1, messages });
    }
    await producer.disconnect();
    // Every round reads the whole topic with a group of its own.
    return {
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
    };
  },
  labels: {
    eachBatch: 'kafkajs group, eachBatch + resolveOffset',
    eachMessage: 'kafkajs group, eachMessage',
  },
  oursLabel: 'kafka connection -> local function',
});

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

const sqsBench = sourceBench({
  name: 'source-sqs',
  title: `(k) ${SQS_MESSAGES} SQS messages (moto) through a connection vs a raw receive + delete loop`,
  start: startMoto,
  ways: (moto) => ({
    single: () => sqsRaw(moto.endpoint, 'single'),
    batch: () => sqsRaw(moto.endpoint, 'batch'),
    ours: () => sqsOurs(moto.endpoint),
  }),
  labels: {
    single: 'ReceiveMessage of 10 + DeleteMessage each',
    batch: 'ReceiveMessage of 10 + DeleteMessageBatch',
  },
  oursLabel: 'awssqs connection -> local function',
});

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

const amqpBench = sourceBench({
  name: 'source-amqp',
  title: `(k) ${AMQP_MESSAGES} AMQP messages (RabbitMQ) through a connection vs raw amqplib consume + ack, prefetch ${PREFETCH}`,
  start: startRabbit,
  ways: (rabbit) => ({
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
  }),
  labels: { consume: `amqplib consume + ack each, prefetch ${PREFETCH}` },
  oursLabel: 'amqp connection -> local function',
});

module.exports = [kafkaBench, sqsBench, amqpBench];
