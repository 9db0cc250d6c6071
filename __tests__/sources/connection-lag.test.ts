// Each connection's lag, against the real servers of the source suites: messages produced while
// the gateway cannot accept them show as lag (messages, or ms), and the lag falls to 0 once they
// are consumed; Prometheus shows it per connection.
import { CreateStreamCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import * as prom from 'prom-client';
import {
  labelledConnections,
  registerConnectionMetrics,
} from '../../lib/metrics/connection-metrics';
import type { ConnectionRunner } from '../../lib/sources/connection-runner';
import { startKafkaMock } from '../../scripts/servers';
import { gatewayFixture } from '../helpers/gateway';
import { runnerFixture, sinkSetUp, until } from '../helpers/connection-runner';
import { AWS_TEST, startMoto, type RunningMoto } from '../helpers/moto';
import { startRabbit } from '../helpers/rabbitmq';

jest.setTimeout(120_000);

const newGateway = gatewayFixture();
const newRunner = runnerFixture();
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.allSettled(stops.splice(0).map((stop) => stop()));
});

let moto: RunningMoto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

const aws = () => ({
  region: AWS_TEST.region,
  endpoint: moto.endpoint,
  awsAccessKeyId: AWS_TEST.awsAccessKeyId,
  awsSecretAccessKey: AWS_TEST.awsSecretAccessKey,
});
const awsClient = () => ({
  region: AWS_TEST.region,
  endpoint: moto.endpoint,
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  requestHandler: new NodeHttpHandler(),
});

/** A gateway whose intake holds every event until `release()`: nothing is accepted before. */
async function heldSetUp(eventType: string) {
  const set = await sinkSetUp(newGateway, newRunner, eventType, { drainTimeout: 200 });
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  set.gateway.use({ name: 'hold', timeout: 120_000, onEvent: () => held });
  const health = () => set.runner.health()[0];
  return { ...set, release, health };
}

test('Kafka: lag is the high watermark minus the committed offset; N while held, 0 once consumed; in Prometheus', async () => {
  const mock = await startKafkaMock();
  stops.push(() => mock.stop());
  const N = 20;
  const producer = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  await producer.send({
    topic: 'lagging',
    acks: -1,
    messages: Array.from({ length: N }, (_, n) => ({ value: JSON.stringify({ n }) })),
  });
  await producer.disconnect();
  const { gateway, runner, delivered, release, health } = await heldSetUp('order.placed');
  await gateway.createConnection({
    connectionId: 'orders',
    type: 'kafka',
    source: { brokers: mock.brokers.join(','), topic: 'lagging' },
    eventType: 'order.placed',
  });
  await until(() => health()?.inFlight === N, 'all in flight', 60_000);
  expect(health().lagMessages).toBe(N);
  expect(await lagSamples(runner)).toEqual(
    new Map([['eventgateway_connection_lag_messages{space="default",connection="orders"}', N]]),
  );
  release();
  await until(() => delivered.length === N, 'all delivered', 60_000);
  await until(() => health().lagMessages === 0, 'no lag once committed');
  expect(await lagSamples(runner)).toEqual(
    new Map([['eventgateway_connection_lag_messages{space="default",connection="orders"}', 0]]),
  );
});

/**
 * A Kafka connection paused (maxInFlight 5 reached, its intake held) on a topic of 20 messages,
 * once its lag reads 20: only a first batch's messages were delivered, the partitions not fetched
 * from count too.
 */
async function pausedKafka(topic: string) {
  const mock = await startKafkaMock();
  stops.push(() => mock.stop());
  const producer = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  stops.unshift(() => producer.disconnect());
  const produce = (from: number, count: number) =>
    producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: count }, (_, i) => ({
        value: JSON.stringify({ n: from + i }),
      })),
    });
  await produce(0, 20);
  const set = await heldSetUp('order.placed');
  await set.gateway.createConnection({
    connectionId: 'orders',
    type: 'kafka',
    source: { brokers: mock.brokers.join(','), topic },
    eventType: 'order.placed',
    maxInFlight: 5,
  });
  const { health } = set;
  await until(() => health()?.state === 'paused' && health().lagMessages === 20, 'paused', 30_000);
  return { ...set, mock, produce };
}

test('Kafka: a source paused (maxInFlight reached) fetches no batch, yet its lag counts what was produced since', async () => {
  const { produce, delivered, release, health } = await pausedKafka('paused');
  await produce(20, 10);
  // Read with the topic's offsets (every 5 s), not from a batch.
  await until(() => health().lagMessages === 30, 'the messages produced while paused', 15_000);
  release();
  await until(() => delivered.length === 30, 'all delivered', 60_000);
  await until(() => health().lagMessages === 0, 'no lag once committed');
});

// The brokers frozen (SIGSTOP): the offsets read every 5 s times out, and the paused source's last
// batch (fetched before) is all that is left: its high watermark would be shown as current.
test('Kafka: a paused source whose offsets cannot be read shows its lag as unknown, not as of its last batch', async () => {
  const { mock, delivered, release, health } = await pausedKafka('frozen');
  process.kill(mock.pid, 'SIGSTOP');
  try {
    // A read times out within 10 s (5 s apart, 5 s each); the batch is older than 5 s by then.
    await until(() => health().lagMessages === undefined, 'the lag unknown', 15_000);
    expect(health().state).toBe('paused'); // the same source, not one restarted
  } finally {
    process.kill(mock.pid, 'SIGCONT');
  }
  await until(() => health()?.lagMessages === 20, 'the lag read again', 30_000);
  release();
  await until(() => delivered.length >= 20, 'all delivered', 60_000);
});

test('Kinesis: lag is MillisBehindLatest; behind while the records read are held, 0 once caught up', async () => {
  const kinesis = new KinesisClient(awsClient());
  stops.push(async () => kinesis.destroy());
  await kinesis.send(new CreateStreamCommand({ StreamName: 'lagging', ShardCount: 1 }));
  const put = (from: number, count: number) =>
    kinesis.send(
      new PutRecordsCommand({
        StreamName: 'lagging',
        Records: Array.from({ length: count }, (_, i) => ({
          PartitionKey: `k${from + i}`,
          Data: Buffer.from(JSON.stringify({ n: from + i })),
        })),
      }),
    );
  // A GetRecords reads 100: the first hundred are 800 ms older than the stream's tip.
  await put(0, 100);
  await new Promise((resolve) => setTimeout(resolve, 800));
  await put(100, 10);
  const { gateway, runner, delivered, release, health } = await heldSetUp('click');
  await gateway.createConnection({
    connectionId: 'clicks',
    type: 'awskinesis',
    source: { streamName: 'lagging', ...aws() },
    eventType: 'click',
  });
  await until(() => health()?.inFlight === 100, 'the first hundred in flight', 60_000);
  expect(health().lagMs).toBeGreaterThanOrEqual(700);
  const [[name, seconds]] = [...(await lagSamples(runner))];
  expect(name).toBe('eventgateway_connection_lag_seconds{space="default",connection="clicks"}');
  expect(seconds).toBeGreaterThanOrEqual(0.7);
  release();
  await until(() => delivered.length === 110, 'all delivered', 60_000);
  await until(() => health().lagMs === 0, 'no lag once caught up');
});

test('SQS: lag is the queue’s visible and in-flight messages; N while held, 0 once deleted', async () => {
  const sqs = new SQSClient(awsClient());
  stops.push(async () => sqs.destroy());
  const { QueueUrl: queueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'lagging' }));
  const N = 10;
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: Array.from({ length: N }, (_, n) => ({
        Id: `m${n}`,
        MessageBody: JSON.stringify({ n }),
      })),
    }),
  );
  const { gateway, delivered, release, health } = await heldSetUp('job.created');
  await gateway.createConnection({
    connectionId: 'jobs',
    type: 'awssqs',
    source: { queueUrl, waitTimeSeconds: 1, ...aws() },
    eventType: 'job.created',
  });
  await until(() => health()?.lagMessages === N, 'the queue counted', 30_000);
  release();
  await until(() => delivered.length === N, 'all delivered', 60_000);
  // Read every 5 s.
  await until(() => health().lagMessages === 0, 'no lag once deleted', 20_000);
});

test('AMQP: lag is the queue’s ready messages; behind while held (prefetch 1), 0 once consumed', async () => {
  const rabbit = await startRabbit();
  stops.push(() => rabbit.stop());
  const N = 10;
  const connection = await amqp.connect(rabbit.url);
  stops.unshift(() => connection.close());
  const channel = await connection.createChannel();
  await channel.assertQueue('lagging', { durable: false });
  for (let n = 0; n < N; n++) channel.sendToQueue('lagging', Buffer.from(JSON.stringify({ n })));
  const { gateway, delivered, release, health } = await heldSetUp('mail.requested');
  await gateway.createConnection({
    connectionId: 'mail',
    type: 'amqp',
    source: { url: rabbit.url, queue: 'lagging' },
    eventType: 'mail.requested',
    maxInFlight: 1,
  });
  await until(() => health()?.inFlight === 1, 'one in flight', 60_000);
  await until(() => (health().lagMessages ?? 0) >= N - 1, 'the queue counted', 20_000);
  release();
  await until(() => delivered.length === N, 'all delivered', 60_000);
  await until(() => health().lagMessages === 0, 'no lag once consumed', 20_000);
}, 180_000);

test('schedules: lag is how late the last tick fired here was; a tick fired late shows it, the next on time does not', async () => {
  const { gateway, runner } = await sinkSetUp(newGateway, newRunner, 'tick');
  const health = () => runner.health()[0];
  await gateway.createConnection({
    connectionId: 'tick',
    type: 'schedule',
    source: { cron: '* * * * * *' },
    eventType: 'tick',
  });
  await until(() => health()?.lagMs !== undefined, 'a first tick', 15_000);
  // The event loop is held across a second's tick: its timer, then its event, is 700 ms late.
  await untilWallClock(900);
  const busyUntil = Date.now() + 800;
  while (Date.now() < busyUntil);
  await until(() => (health().lagMs ?? 0) >= 600, 'the late tick', 5000);
  await until(() => (health().lagMs ?? Infinity) < 300, 'a tick on time', 5000);
});

/** Waits until the wall clock is `ms` into a second. */
async function untilWallClock(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, (ms - (Date.now() % 1000) + 1000) % 1000));
}

/** The lag samples of a scrape of the runner's connections. */
async function lagSamples(runner: ConnectionRunner): Promise<Map<string, number>> {
  const registry = new prom.Registry();
  registerConnectionMetrics(
    prom,
    registry,
    'eventgateway_',
    {},
    {
      health: () => ({ connections: runner.health() }),
    },
  );
  const out = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    if (!line.startsWith('eventgateway_connection_lag_')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

test('past the labelled bound, the (other) row sums messages behind and keeps the largest time behind', () => {
  const figures = (connectionId: string, lag: { lagMessages?: number; lagMs?: number }) => ({
    space: 's',
    connectionId,
    state: 'running',
    inFlight: 0,
    accepted: 0,
    refused: 0,
    retries: 0,
    ackFailures: 0,
    owned: [],
    ...lag,
  });
  const rows = labelledConnections(
    [
      figures('a', { lagMessages: 1 }),
      figures('b', { lagMessages: 2 }),
      figures('c', { lagMs: 300 }),
      figures('d', { lagMessages: 4, lagMs: 100 }),
      figures('e', {}),
    ],
    1,
  );
  expect(rows).toHaveLength(2);
  expect(rows[0]).toMatchObject({ connection: 'a', lagMessages: 1 });
  expect(rows[0].lagMs).toBeUndefined();
  expect(rows[1]).toMatchObject({ connection: '(other)', lagMessages: 6, lagMs: 300 });
});
