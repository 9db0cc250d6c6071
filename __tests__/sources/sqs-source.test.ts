// SQS connections against moto: long polling, each message deleted only once its event was
// accepted, kept invisible (its visibility extended) while its event is in flight, and poison
// dead-lettered and deleted.
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { gatewayFixture } from '../helpers/gateway';
import { runnerFixture, sinkSetUp, until } from '../helpers/connection-runner';
import { AWS_TEST, startMoto, type RunningMoto } from '../helpers/moto';

jest.setTimeout(90_000);

const newGateway = gatewayFixture();
const newRunner = runnerFixture();
let moto: RunningMoto;
let sqs: SQSClient;
let queues = 0;

beforeAll(async () => {
  moto = await startMoto();
  sqs = new SQSClient({
    region: AWS_TEST.region,
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
});
afterAll(async () => {
  sqs?.destroy();
  await moto?.stop();
});

async function queue(): Promise<string> {
  const out = await sqs.send(new CreateQueueCommand({ QueueName: `source-${++queues}` }));
  return out.QueueUrl as string;
}

async function send(queueUrl: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(i, i + 10).map((body, j) => ({ Id: `m${i + j}`, MessageBody: body })),
      }),
    );
  }
}

/** Messages in the queue: [visible, in flight (invisible)]. */
async function counts(queueUrl: string): Promise<[number, number]> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const a = out.Attributes ?? {};
  return [Number(a.ApproximateNumberOfMessages), Number(a.ApproximateNumberOfMessagesNotVisible)];
}

async function setUp() {
  const { gateway, runner, delivered, notices } = await sinkSetUp(
    newGateway,
    newRunner,
    'job.created',
  );
  const queueUrl = await queue();
  const source = {
    queueUrl,
    region: AWS_TEST.region,
    endpoint: moto.endpoint,
    awsAccessKeyId: AWS_TEST.awsAccessKeyId,
    awsSecretAccessKey: AWS_TEST.awsSecretAccessKey,
    waitTimeSeconds: 1,
  };
  return { gateway, runner, delivered, notices, queueUrl, source };
}

test('N messages in, N events delivered, each deleted only after acceptance; one in flight stays invisible past its visibility timeout', async () => {
  const { gateway, runner, delivered, queueUrl, source } = await setUp();
  const N = 30;
  await send(
    queueUrl,
    Array.from({ length: N }, (_, i) => JSON.stringify({ n: i })),
  );
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  gateway.use({
    name: 'hold-7',
    timeout: 60_000,
    onEvent: async (event) => {
      if ((event.data as { n: number }).n === 7) await held;
    },
  });
  await gateway.createConnection({
    connectionId: 'jobs',
    type: 'awssqs',
    source: { ...source, visibilityTimeout: 2 },
    eventType: 'job.created',
  });
  await until(() => delivered.length === N - 1, 'all but the held one', 60_000);
  // Three visibility timeouts later: still in flight, never redelivered, never deleted.
  await new Promise((resolve) => setTimeout(resolve, 6000));
  expect(await counts(queueUrl)).toEqual([0, 1]);
  expect(delivered).toHaveLength(N - 1);
  release();
  await until(() => delivered.length === N, 'the held one');
  const deadline = Date.now() + 10_000;
  while ((await counts(queueUrl))[1] > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(await counts(queueUrl)).toEqual([0, 0]);
  expect(delivered.map((e) => (e.data as { n: number }).n).sort((a, b) => a - b)).toEqual(
    Array.from({ length: N }, (_, i) => i),
  );
  expect(delivered[0]).toMatchObject({
    source: '/spaces/default/connections/jobs',
    id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    time: expect.stringMatching(/^\d{4}-/),
  });
  expect(runner.health()[0]).toMatchObject({ accepted: N, refused: 0, ackFailures: 0 });
});

test('poison messages are dead-lettered with a reason and deleted; the good ones are delivered', async () => {
  const { gateway, delivered, notices, queueUrl, source } = await setUp();
  const good = (id: string) =>
    JSON.stringify({ specversion: '1.0', id, source: '/jobs', type: 'job.created' });
  await send(queueUrl, [
    good('a'),
    '<xml/>',
    JSON.stringify({ ...JSON.parse(good('x')), deliveryid: 'forged' }),
    JSON.stringify({ specversion: '1.0', id: 'y', type: 'job.created' }),
    good('b'),
  ]);
  await gateway.createConnection({ connectionId: 'ce', type: 'awssqs', source, cloudEvents: true });
  await until(
    () => delivered.length === 2 && notices.length === 3,
    'two events, three refusals',
    60_000,
  );
  expect(delivered.map((e) => e.id).sort()).toEqual(['a', 'b']);
  expect(notices.map((n) => n.reason)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/not a structured CloudEvent/),
      expect.stringMatching(/"deliveryid", an extension only the gateway sets/),
      expect.stringMatching(/"source" is required/),
    ]),
  );
  const deadline = Date.now() + 10_000;
  while ((await counts(queueUrl)).some((n) => n > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(await counts(queueUrl)).toEqual([0, 0]);
});
