// AMQP connections against a RabbitMQ node of their own: every message becomes an event and is
// acked only after acceptance; the prefetch (maxInFlight) bounds what the broker sends ahead;
// poison is dead-lettered and acked; what is in flight when the gateway stops goes back.
import amqp from 'amqplib';
import { gatewayFixture } from '../helpers/gateway';
import { runnerFixture, sinkSetUp, until } from '../helpers/connection-runner';
import { startRabbit, type RunningRabbit } from '../helpers/rabbitmq';

jest.setTimeout(120_000);

const newGateway = gatewayFixture();
const newRunner = runnerFixture();
let rabbit: RunningRabbit;
let queues = 0;

beforeAll(async () => {
  rabbit = await startRabbit();
}, 90_000);
afterAll(async () => {
  await rabbit?.stop();
});

/** A new queue with the messages in it; and a way to read its counts. */
async function queueWith(bodies: string[]) {
  const name = `q${++queues}`;
  const connection = await amqp.connect(rabbit.url);
  const channel = await connection.createChannel();
  await channel.assertQueue(name, { durable: false });
  for (const [i, body] of bodies.entries()) {
    channel.sendToQueue(name, Buffer.from(body), { messageId: `m-${i}` });
  }
  const counts = async () => {
    const { messageCount } = await channel.checkQueue(name);
    return messageCount;
  };
  return { name, counts, close: () => connection.close() };
}

const setUp = () => sinkSetUp(newGateway, newRunner, 'mail.requested', { drainTimeout: 200 });

test('N messages in, N events delivered, acked only after acceptance; the held one goes back when the gateway stops', async () => {
  const { gateway, runner, delivered } = await setUp();
  const N = 50;
  const queue = await queueWith(Array.from({ length: N }, (_, i) => JSON.stringify({ n: i })));
  let waiting = 0;
  gateway.use({
    name: 'hold-3',
    timeout: 5000,
    onEvent: async (event) => {
      if ((event.data as { n: number }).n === 3) {
        waiting++;
        await new Promise(() => undefined);
      }
    },
  });
  await gateway.createConnection({
    connectionId: 'mail',
    type: 'amqp',
    source: { url: rabbit.url, queue: queue.name },
    eventType: 'mail.requested',
    maxInFlight: 8,
  });
  await until(() => delivered.length === N - 1 && waiting === 1, 'all but the held one', 60_000);
  expect(runner.health()[0]).toMatchObject({ accepted: N - 1, inFlight: 1 });
  // Acked: gone from the queue; the held one is unacked (not counted as ready).
  expect(await queue.counts()).toBe(0);
  expect(delivered[0]).toMatchObject({ id: 'm-0', source: '/spaces/default/connections/mail' });
  await runner.close();
  // Never accepted: back in the queue for the next consumer.
  const deadline = Date.now() + 10_000;
  while ((await queue.counts()) !== 1 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(await queue.counts()).toBe(1);
  await queue.close();
});

test('poison messages are dead-lettered with a reason and acked', async () => {
  const { gateway, delivered, notices } = await setUp();
  const good = (id: string) =>
    JSON.stringify({ specversion: '1.0', id, source: '/mail', type: 'mail.requested' });
  const queue = await queueWith([
    good('a'),
    '\u0000\u0001 binary junk',
    JSON.stringify({ ...JSON.parse(good('x')), eventgatewayreplay: 'r-1' }),
    good('b'),
  ]);
  await gateway.createConnection({
    connectionId: 'ce',
    type: 'amqp',
    source: { url: rabbit.url, queue: queue.name },
    cloudEvents: true,
  });
  await until(
    () => delivered.length === 2 && notices.length === 2,
    'two events, two refusals',
    60_000,
  );
  expect(notices.map((n) => n.reason)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/not a structured CloudEvent/),
      expect.stringMatching(/"eventgatewayreplay", an extension only the gateway sets/),
    ]),
  );
  expect(await queue.counts()).toBe(0);
  // The URL's password is a secret like a function URL's.
  expect(gateway.getConnection({ connectionId: 'ce' }).source.url).toMatch(
    /^amqp:\/\/\[redacted\]@127\.0\.0\.1:\d+$/,
  );
  await queue.close();
});
