import { loadKafka } from '../../lib/clients/kafka-client';
import { startKafkaMock, type RunningKafkaMock } from '../../scripts/servers';

// librdkafka's mock cluster (kcat): no real Kafka broker installs here.
let mock: RunningKafkaMock;
beforeAll(async () => {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  mock = await startKafkaMock();
});
afterAll(() => mock?.stop());

/** How many timers with a negative delay a connected, idle producer of `Kafka` sets in 300 ms. */
async function negativeTimersWhileIdle(Kafka: ReturnType<typeof loadKafka>['Kafka']) {
  const { logLevel } = loadKafka();
  const producer = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).producer({});
  await producer.connect();
  await producer.send({ topic: 'idle-timers', acks: -1, messages: [{ value: 'x' }] });
  const spy = jest.spyOn(global, 'setTimeout');
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return spy.mock.calls.filter(([, delay]) => Number(delay) < 0).length;
  } finally {
    spy.mockRestore();
    await producer.disconnect();
  }
}

test("the gateway's kafkajs sets no negative timers while idle; the host's own kafkajs still does", async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on('warning', onWarning);
  try {
    expect(await negativeTimersWhileIdle(loadKafka().Kafka)).toBe(0);
    // Node 24 warns about those (TimeoutNegativeWarning); the gateway's clients give it no cause.
    expect(warnings).not.toContain('TimeoutNegativeWarning');
  } finally {
    process.off('warning', onWarning);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the host's own kafkajs
  const hostKafka = require('kafkajs').Kafka;
  expect(await negativeTimersWhileIdle(hostKafka)).toBeGreaterThan(10);
});
