// Kafka connections against a real Kafka protocol endpoint (librdkafka's mock cluster through
// kcat, as the Kafka journal's tests): every message becomes an event, and the group's offsets
// are committed only past messages whose events were accepted; poison is dead-lettered and
// committed past.
import { Kafka, logLevel } from 'kafkajs';
import { startKafkaMock, type RunningKafkaMock } from '../../scripts/servers';
import { gatewayFixture } from '../helpers/gateway';
import { runnerFixture, sinkSetUp, until } from '../helpers/connection-runner';

jest.setTimeout(90_000);

const newGateway = gatewayFixture();
const newRunner = runnerFixture();
let mock: RunningKafkaMock;
let topicCount = 0;

beforeEach(async () => {
  mock = await startKafkaMock();
});
afterEach(async () => {
  await mock.stop();
});

const client = () => new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING });

async function produce(topic: string, values: string[]): Promise<void> {
  const producer = client().producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
  } finally {
    await producer.disconnect();
  }
}

/** The group's committed offsets, by partition. */
async function committed(groupId: string, topic: string): Promise<Map<number, number>> {
  const admin = client().admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(offsets.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]));
  } finally {
    await admin.disconnect();
  }
}
const total = (offsets: Map<number, number>) => [...offsets.values()].reduce((a, b) => a + b, 0);

async function setUp(connection: Record<string, unknown>) {
  const set = await sinkSetUp(newGateway, newRunner, 'order.placed');
  const topic = `orders-${++topicCount}`;
  return { ...set, topic, connection: { ...connection, topic } };
}

test('N messages in, N events delivered; a partition is committed only up to its first event not yet accepted', async () => {
  const { gateway, runner, delivered, topic } = await setUp({});
  const N = 60;
  await produce(
    topic,
    Array.from({ length: N }, (_, i) => JSON.stringify({ n: i })),
  );
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let heldId: string | undefined;
  gateway.use({
    name: 'hold-10',
    timeout: 60_000,
    onEvent: async (event) => {
      if ((event.data as { n: number }).n !== 10) return;
      heldId = event.id;
      await held;
    },
  });
  await gateway.createConnection({
    connectionId: 'orders',
    type: 'kafka',
    source: { brokers: mock.brokers.join(','), topic },
    eventType: 'order.placed',
  });
  const group = 'event-gateway.default.orders';
  await until(() => delivered.length === N - 1 && heldId !== undefined, 'all but the held', 60_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const [partition, offset] = (heldId as string).split('-').map(Number);
  const before = await committed(group, topic);
  // Everything past the held message waits for it: its offset is where a new owner would start.
  expect(before.get(partition)).toBe(offset);
  expect(total(before)).toBeLessThan(N);
  release();
  await until(() => delivered.length === N, 'the held event', 30_000);
  const seen = delivered.map((e) => (e.data as { n: number }).n).sort((a, b) => a - b);
  expect(seen).toEqual(Array.from({ length: N }, (_, i) => i));
  expect(delivered[0]).toMatchObject({
    source: '/spaces/default/connections/orders',
    type: 'order.placed',
    id: expect.stringMatching(/^\d+-\d+$/),
  });
  const deadline = Date.now() + 10_000;
  while (total(await committed(group, topic)) < N && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(total(await committed(group, topic))).toBe(N);
  expect(runner.health()[0]).toMatchObject({ accepted: N, refused: 0, inFlight: 0 });
  expect(runner.health()[0].owned.length).toBeGreaterThan(0);
});

test('poison messages are dead-lettered with a reason and committed past; the good ones are delivered', async () => {
  const { delivered, notices, topic, gateway } = await setUp({});
  const good = (id: string) =>
    JSON.stringify({ specversion: '1.0', id, source: '/shop', type: 'order.placed', data: {} });
  await produce(topic, [
    good('a'),
    'not json at all',
    JSON.stringify({ ...JSON.parse(good('x')), eventgatewayauthorization: '{"admin":true}' }),
    JSON.stringify({ ...JSON.parse(good('y')), type: 'eventgateway.function.invoked' }),
    good('b'),
  ]);
  await gateway.createConnection({
    connectionId: 'ce',
    type: 'kafka',
    source: { brokers: mock.brokers.join(','), topic },
    cloudEvents: true,
  });
  await until(
    () => delivered.length === 2 && notices.length === 3,
    'two events, three refusals',
    60_000,
  );
  expect(delivered.map((e) => e.id).sort()).toEqual(['a', 'b']);
  expect(notices.map((n) => n.reason)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/not a structured CloudEvent/),
      expect.stringMatching(/"eventgatewayauthorization", an extension only the gateway sets/),
      expect.stringMatching(/reserved/),
    ]),
  );
  const deadline = Date.now() + 10_000;
  while (total(await committed('event-gateway.default.ce', topic)) < 5 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(total(await committed('event-gateway.default.ce', topic))).toBe(5);
});
