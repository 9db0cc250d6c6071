// (h) deliveries to SQS through the gateway against raw @aws-sdk/client-sqs calls to the same
// server (moto, in its own process) at the same concurrency: SendMessage one by one, and
// SendMessageBatch of 10. The gateway batches what waits for one queue by itself.
const {
  CreateQueueCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} = require('@aws-sdk/client-sqs');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const { Agent } = require('node:http');
const { startMoto } = require('../scripts/servers');
const { BENCH_EVENT, median } = require('./harness');

// Per run, into a new queue: moto's SQS slows down as a queue fills (each message costs O(queue)).
const MESSAGES = 400;
const ROUNDS = 5;
const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };

function client(endpoint) {
  return new SQSClient({
    region: 'us-east-1',
    endpoint,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent({ keepAlive: true, maxSockets: 256 }),
    }),
  });
}

let queues = 0;
async function newQueue(sqs) {
  const out = await sqs.send(new CreateQueueCommand({ QueueName: `bench${++queues}` }));
  return out.QueueUrl;
}

/** Raw SDK: `concurrency` workers, each sending `batch` messages per call (1: SendMessage). */
async function raw(sqs, queueUrl, concurrency, batch) {
  let next = 0;
  const body = (i) => JSON.stringify({ ...BENCH_EVENT, id: String(i) });
  const worker = async () => {
    while (next < MESSAGES) {
      if (batch === 1) {
        const i = next++;
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body(i) }));
      } else {
        const ids = [];
        while (ids.length < batch && next < MESSAGES) ids.push(next++);
        const out = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: ids.map((i, n) => ({ Id: String(n), MessageBody: body(i) })),
          }),
        );
        if (out.Failed?.length) throw new Error(`raw batch: ${out.Failed.length} failed`);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return MESSAGES / ((performance.now() - started) / 1000);
}

async function viaGateway(endpoint, queueUrl, concurrency) {
  const { createGateway, MemoryStore } = require('../dist');
  const gateway = createGateway(new MemoryStore(), {
    resyncInterval: 0,
    concurrency,
    queueSize: MESSAGES,
  });
  await gateway.registerFunction({
    functionId: 'queue',
    type: 'awssqs',
    provider: {
      queueUrl,
      region: 'us-east-1',
      endpoint,
      awsAccessKeyId: CREDENTIALS.accessKeyId,
      awsSecretAccessKey: CREDENTIALS.secretAccessKey,
    },
  });
  await gateway.createEventType({ name: BENCH_EVENT.type });
  await gateway.subscribe({ eventType: BENCH_EVENT.type, functionId: 'queue' });
  const started = performance.now();
  for (let i = 0; i < MESSAGES; i++) await gateway.emit({ ...BENCH_EVENT, id: String(i) });
  while (gateway.metrics().deliveriesPending > 0) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const seconds = (performance.now() - started) / 1000;
  const m = gateway.metrics();
  await gateway.close();
  if (m.deliveriesSucceeded !== MESSAGES) {
    throw new Error(`sqs: ${m.deliveriesSucceeded} of ${MESSAGES} delivered`);
  }
  return MESSAGES / seconds;
}

function benchmark(name, title, concurrency, batch, gatewayConcurrency) {
  return {
    name,
    title,
    goal: 'ratio >= 0.9',
    async run() {
      const moto = await startMoto();
      const sqs = client(moto.endpoint);
      try {
        const ours = [];
        const baseline = [];
        await raw(sqs, await newQueue(sqs), concurrency, batch); // warm-up
        await viaGateway(moto.endpoint, await newQueue(sqs), gatewayConcurrency);
        for (let round = 0; round < ROUNDS; round++) {
          baseline.push(await raw(sqs, await newQueue(sqs), concurrency, batch));
          ours.push(await viaGateway(moto.endpoint, await newQueue(sqs), gatewayConcurrency));
        }
        const o = median(ours);
        const b = median(baseline);
        return {
          ours: {
            value: o,
            unit: 'messages/s',
            label: `gateway, concurrency ${gatewayConcurrency}`,
          },
          baseline: {
            value: b,
            unit: 'messages/s',
            label: `raw ${batch === 1 ? 'SendMessage' : `SendMessageBatch of ${batch}`}, concurrency ${concurrency}`,
          },
          ratio: o / b,
          met: o / b >= 0.9,
        };
      } finally {
        sqs.destroy();
        await moto.stop();
      }
    },
  };
}

module.exports = [
  benchmark('sqs-send', '(h) gateway -> SQS vs raw SendMessage, concurrency 16', 16, 1, 16),
  benchmark(
    'sqs-batch',
    '(h) gateway -> SQS vs raw SendMessageBatch of 10, 16 calls in flight',
    16,
    10,
    160,
  ),
];
