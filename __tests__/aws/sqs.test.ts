import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { GatewayOptions } from '../../lib';
import { cloudEvent } from '../helpers/events';
import { gatewayFixture } from '../helpers/gateway';
import { AwsProxy } from '../helpers/aws-proxy';
import { AWS_TEST, startMoto, type RunningMoto } from '../helpers/moto';

jest.setTimeout(60_000);

let moto: RunningMoto;
let proxy: AwsProxy;
let endpoint: string;
let sqs: SQSClient;
const newGateway = gatewayFixture();

beforeAll(async () => {
  moto = await startMoto();
  proxy = new AwsProxy(moto.endpoint);
  endpoint = await proxy.start();
  sqs = new SQSClient({
    region: AWS_TEST.region,
    endpoint,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
});
afterAll(async () => {
  sqs?.destroy();
  await proxy?.stop();
  await moto?.stop();
});
beforeEach(() => {
  proxy.calls.length = 0;
  proxy.answer = proxy.rewrite = undefined;
});

let queues = 0;
async function queue(fifo = false): Promise<string> {
  const name = `q${++queues}${fifo ? '.fifo' : ''}`;
  const out = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: fifo ? { FifoQueue: 'true' } : {},
    }),
  );
  return out.QueueUrl as string;
}

async function drain(queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    if (!out.Messages?.length) return all;
    all.push(...out.Messages);
  }
}

async function sqsGateway(queueUrl: string, options: GatewayOptions = {}) {
  const { gateway } = await newGateway(undefined, {
    retry: { maxAttempts: 3, initialDelay: 1, maxDelay: 5 },
    ...options,
  });
  await gateway.registerFunction({
    functionId: 'queue',
    type: 'awssqs',
    provider: { queueUrl, endpoint, ...AWS_TEST },
  });
  await gateway.createEventType({ name: 'order.placed' });
  await gateway.subscribe({ eventType: 'order.placed', functionId: 'queue' });
  return gateway;
}

const batchSizes = () =>
  proxy.calls
    .filter((c) => c.action.endsWith('.SendMessageBatch'))
    .map((c) => (JSON.parse(c.body) as { Entries: unknown[] }).Entries.length);

test('each delivery is one message holding the event; deliveries waiting together go out in batches of up to 10', async () => {
  const url = await queue();
  const gateway = await sqsGateway(url);
  const events = Array.from({ length: 25 }, (_, i) =>
    cloudEvent('order.placed', { n: i }, { id: `e${i}` }),
  );
  const results = await Promise.all(events.map((e) => gateway.emit(e, { wait: true })));
  for (const { outcomes } of results) {
    expect(outcomes?.[0]).toMatchObject({ ok: true, result: { messageId: expect.any(String) } });
  }
  const bodies = (await drain(url)).map((m) => JSON.parse(m.Body as string));
  expect(bodies.map((b) => b.id).sort()).toEqual(events.map((e) => e.id).sort());
  expect(bodies.find((b) => b.id === 'e7')).toMatchObject({ type: 'order.placed', data: { n: 7 } });
  expect(batchSizes().length).toBeGreaterThan(0);
  expect(Math.max(...batchSizes())).toBeLessThanOrEqual(10);
  expect(batchSizes().reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(25);
});

test('a lone delivery is a SendMessage', async () => {
  const url = await queue();
  const gateway = await sqsGateway(url);
  await gateway.emit(cloudEvent('order.placed', undefined, { id: 'alone' }), { wait: true });
  expect(proxy.actions()).toContain('SendMessage');
  expect((await drain(url)).map((m) => JSON.parse(m.Body as string).id)).toEqual(['alone']);
});

test('FIFO queues: the group comes from the event source, the deduplication ID from its id', async () => {
  const url = await queue(true);
  const gateway = await sqsGateway(url);
  const event = cloudEvent('order.placed', undefined, { id: 'same', source: '/shop/1' });
  await gateway.emit(event, { wait: true });
  await gateway.emit(event, { wait: true });
  const sent = proxy.calls
    .filter((c) => c.action.endsWith('.SendMessage'))
    .map((c) => JSON.parse(c.body));
  expect(sent[0]).toMatchObject({ MessageGroupId: '/shop/1', MessageDeduplicationId: 'same' });
  // Sent twice, queued once: a retried delivery is not a second message.
  expect(await drain(url)).toHaveLength(1);
});

test('a partial batch failure retries exactly the failed entry', async () => {
  const url = await queue();
  const gateway = await sqsGateway(url);
  let rewritten = false;
  proxy.rewrite = (call, body) => {
    if (rewritten || !call.action.endsWith('.SendMessageBatch')) return body;
    rewritten = true;
    // The real answer, with entry 1 moved to the failures, as SQS reports a partial failure.
    const answer = JSON.parse(body) as { Successful: { Id: string }[]; Failed?: unknown[] };
    answer.Successful = answer.Successful.filter((s) => s.Id !== '1');
    answer.Failed = [{ Id: '1', Code: 'InternalError', Message: 'try again', SenderFault: false }];
    return JSON.stringify(answer);
  };
  const events = Array.from({ length: 5 }, (_, i) =>
    cloudEvent('order.placed', undefined, { id: `p${i}` }),
  );
  const results = await Promise.all(events.map((e) => gateway.emit(e, { wait: true })));
  const attempts = results.map((r) => r.outcomes?.[0].attempts);
  expect(results.every((r) => r.outcomes?.[0].ok)).toBe(true);
  expect(attempts.filter((a) => a === 2)).toHaveLength(1);
  expect(attempts.filter((a) => a === 1)).toHaveLength(4);
  // The retry carried the failed event alone.
  const firstBatch = JSON.parse(
    proxy.calls.find((c) => c.action.endsWith('.SendMessageBatch'))!.body,
  );
  const failedId = JSON.parse(firstBatch.Entries[1].MessageBody).id;
  const later = proxy.calls.slice(
    proxy.calls.indexOf(proxy.calls.find((c) => c.action.endsWith('.SendMessageBatch'))!) + 1,
  );
  expect(later.map((c) => c.body).join('\n')).toContain(failedId);
  expect(later.filter((c) => c.action.includes('SendMessage'))).toHaveLength(1);
});

test('throttling and 5xx answers are retried', async () => {
  const url = await queue();
  const gateway = await sqsGateway(url);
  let failures = 0;
  proxy.answer = (call) => {
    if (!call.action.endsWith('.SendMessage') || failures >= 2) return undefined;
    failures++;
    return failures === 1
      ? {
          status: 400,
          body: JSON.stringify({
            __type: 'com.amazonaws.sqs#RequestThrottled',
            message: 'slow down',
          }),
        }
      : {
          status: 500,
          body: JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'oops' }),
        };
  };
  const { outcomes } = await gateway.emit(cloudEvent('order.placed'), { wait: true });
  expect(outcomes?.[0]).toMatchObject({ ok: true, attempts: 3 });
});

test('a missing queue or wrong credentials is a final failure with a clear message, never showing the secret', async () => {
  const missing = `${endpoint}/123456789012/no-such-queue`;
  const gateway = await sqsGateway(missing);
  const { outcomes } = await gateway.emit(cloudEvent('order.placed'), { wait: true });
  const outcome = outcomes?.[0];
  expect(outcome).toMatchObject({ ok: false, attempts: 1 });
  const message = outcome && !outcome.ok ? outcome.error.message : '';
  expect(message).toMatch(
    /Function "queue" \(awssqs\) failed: .*(QueueDoesNotExist|NonExistentQueue)/,
  );
  expect(message).not.toContain(AWS_TEST.awsSecretAccessKey);

  const url = await queue();
  proxy.answer = () => ({
    status: 400,
    body: JSON.stringify({
      __type: 'com.amazonaws.sqs#InvalidClientTokenId',
      message: `The security token included in the request is invalid: ${AWS_TEST.awsSecretAccessKey}`,
    }),
  });
  const denied = await sqsGateway(url);
  const second = (await denied.emit(cloudEvent('order.placed'), { wait: true })).outcomes?.[0];
  expect(second).toMatchObject({ ok: false, attempts: 1 });
  const text = second && !second.ok ? second.error.message : '';
  expect(text).toMatch(/InvalidClientTokenId/);
  expect(text).not.toContain(AWS_TEST.awsSecretAccessKey);
});

test('close() with AWS deliveries in flight reports them undelivered and drops their connections', async () => {
  const url = await queue();
  const gateway = await sqsGateway(url, { drainTimeout: 100 });
  proxy.answer = (call) => (call.action.includes('SendMessage') ? 'hang' : undefined);
  await gateway.emit(cloudEvent('order.placed', undefined, { id: 'stuck' }));
  while (proxy.hanging.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const { undelivered } = await gateway.close();
  expect(undelivered.map((letter) => letter.event.id)).toEqual(['stuck']);
  // The SDK client was destroyed: its socket to the hanging server is gone.
  while (proxy.hanging.size > 0) await new Promise((resolve) => setTimeout(resolve, 5));
});
