// A connection's hosts are held to its writer's outbound policy at connect time too, on the
// addresses they resolve to then: a hostile resolver answers a name that passed at write time
// with the loopback address where a real broker, queue or stream listens. The source is refused
// (a typed OUTBOUND_REFUSED in health() and reported), nothing is read, nothing acknowledged.
import dns from 'node:dns';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import {
  createGateway,
  MemoryStore,
  OutboundPolicy,
  OutboundRefusedError,
  type Gateway,
} from '../../lib';
import { startKafkaMock } from '../../scripts/servers';
import { gatewayFixture } from '../helpers/gateway';
import { runnerFixture, sinkSetUp, until } from '../helpers/connection-runner';
import { AWS_TEST, withMotoSqs } from '../helpers/moto';
import { startRabbit } from '../helpers/rabbitmq';

jest.setTimeout(180_000);

const newGateway = gatewayFixture();
const newRunner = runnerFixture();
const HOSTILE = 'rebound.example.com';

/** The hostile resolver: HOSTILE resolves to 127.0.0.1, every other name as usual. */
let resolved = 0;
beforeEach(() => {
  resolved = 0;
  const real = dns.lookup;
  jest.spyOn(dns, 'lookup').mockImplementation(((
    hostname: string,
    options: unknown,
    callback?: (...args: unknown[]) => void,
  ) => {
    const done = (typeof options === 'function' ? options : callback) as (
      ...args: unknown[]
    ) => void;
    if (hostname !== HOSTILE)
      return (real as (...args: unknown[]) => void)(hostname, options, callback);
    resolved++;
    const all = typeof options === 'object' && (options as { all?: boolean })?.all;
    process.nextTick(() =>
      all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4),
    );
  }) as typeof dns.lookup);
});
afterEach(() => jest.restoreAllMocks());

/** The policy of the runner tests: no loopback (the tenants' default). */
const strict = () => new OutboundPolicy({ allowLoopback: false, allowPrivate: false });

/** Runs a connection with the strict policy; returns what was delivered and reported. */
async function refusedRun(connection: Parameters<Gateway['createConnection']>[0]) {
  const errors: Error[] = [];
  const { gateway, runner, delivered } = await sinkSetUp(newGateway, newRunner, 'job.created', {
    outbound: strict,
    reportError: (error) => void errors.push(error),
    retry: { initialDelay: 50, maxDelay: 200 },
  });
  await gateway.createConnection(connection);
  await until(() => errors.some((e) => e instanceof OutboundRefusedError), 'a refusal', 30_000);
  // Retried meanwhile (the name may resolve elsewhere later): still nothing read.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const [health] = runner.health();
  expect(health).toMatchObject({
    lastErrorCode: 'OUTBOUND_REFUSED',
    lastError: expect.stringMatching(/refused: .*127\.0\.0\.1/),
    accepted: 0,
  });
  expect(errors.find((e) => e instanceof OutboundRefusedError)).toMatchObject({
    code: 'OUTBOUND_REFUSED',
    status: 403,
    resource: 'connection',
  });
  expect(delivered).toEqual([]);
  return { errors };
}

test('AMQP: a host re-pointed at loopback after the write is refused at connect; the messages stay queued', async () => {
  const rabbit = await startRabbit();
  try {
    const port = new URL(rabbit.url).port;
    const admin = await amqp.connect(rabbit.url);
    const channel = await admin.createChannel();
    await channel.assertQueue('jobs', { durable: false });
    channel.sendToQueue('jobs', Buffer.from('{"n":1}'), { messageId: 'm-1' });
    await refusedRun({
      connectionId: 'mq',
      type: 'amqp',
      source: { url: `amqp://guest:guest@${HOSTILE}:${port}`, queue: 'jobs' },
      eventType: 'job.created',
    });
    expect(resolved).toBeGreaterThan(0);
    expect((await channel.checkQueue('jobs')).messageCount).toBe(1);
    // An IP literal is checked too (net.connect never looks it up).
    await refusedRun({
      connectionId: 'literal',
      type: 'amqp',
      source: { url: `amqp://guest:guest@127.0.0.1:${port}`, queue: 'jobs' },
      eventType: 'job.created',
    });
    expect((await channel.checkQueue('jobs')).messageCount).toBe(1);
    await admin.close();

    // Through the gateway: a tenant's connection is held to the tenants' policy at connect too.
    const store = new MemoryStore();
    const gateway = createGateway(store, { resyncInterval: 0 });
    const errors: Error[] = [];
    gateway.on('gateway.error', (error) => void errors.push(error));
    try {
      await gateway.ready();
      await gateway.createEventType({ name: 'job.created' });
      await gateway.createConnection(
        {
          connectionId: 'tenant',
          type: 'amqp',
          source: { url: `amqp://guest:guest@${HOSTILE}:${port}`, queue: 'jobs' },
          eventType: 'job.created',
        },
        { writer: 'tenant' },
      );
      await until(
        () => gateway.health().connections?.[0]?.lastErrorCode === 'OUTBOUND_REFUSED',
        'the refusal in health()',
        30_000,
      );
      expect(errors.some((e) => e instanceof OutboundRefusedError)).toBe(true);
    } finally {
      await gateway.close();
    }
  } finally {
    await rabbit.stop();
  }
}, 240_000);

test('SQS: an endpoint re-pointed at loopback is refused at connect; the message stays in the queue', async () => {
  await withMotoSqs(async (sqs, moto) => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'rebound' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"n":1}' }));
    const hostile = (url: string) => url.replace('127.0.0.1', HOSTILE);
    await refusedRun({
      connectionId: 'jobs',
      type: 'awssqs',
      source: {
        queueUrl: hostile(QueueUrl as string),
        endpoint: hostile(moto.endpoint),
        waitTimeSeconds: 1,
        ...AWS_TEST,
      },
      eventType: 'job.created',
    });
    expect(resolved).toBeGreaterThan(0);
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    expect(Messages).toHaveLength(1);
  });
});

test('Kafka: a broker re-pointed at loopback is refused at connect; nothing is consumed', async () => {
  const mock = await startKafkaMock();
  try {
    const producer = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: 'jobs', acks: -1, messages: [{ value: '{"n":1}' }] });
    await producer.disconnect();
    const port = mock.brokers[0].split(':').pop();
    await refusedRun({
      connectionId: 'stream',
      type: 'kafka',
      source: { brokers: `${HOSTILE}:${port}`, topic: 'jobs' },
      eventType: 'job.created',
    });
    expect(resolved).toBeGreaterThan(0);
  } finally {
    await mock.stop();
  }
});
