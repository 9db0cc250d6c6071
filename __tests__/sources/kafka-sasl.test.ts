// Kafka connections with SASL (PLAIN or SCRAM): the options are validated as a set, the password
// is a secret masked like a function's (kept on update only while the connection points where it
// did), and the shared Kafka client is given them: against the test servers' Kafka mock (which
// has no SASL) the client's handshake is refused, and the password shows nowhere.
import { MemoryStore, SECRET_MASK } from '../../lib';
import { startKafkaMock, type RunningKafkaMock } from '../../scripts/servers';
import { expectRefused, gatewayFixture } from '../helpers/gateway';
import { runnerFixture, sinkSetUp, until } from '../helpers/connection-runner';

jest.setTimeout(60_000);

const newGateway = gatewayFixture();
const newRunner = runnerFixture();
const PASSWORD = 'kafka-sasl-password-never-shown';

const KAFKA = {
  connectionId: 'orders',
  type: 'kafka' as const,
  source: {
    brokers: '127.0.0.1:9092',
    topic: 'orders',
    saslMechanism: 'scram-sha-256',
    saslUsername: 'gateway',
    saslPassword: PASSWORD,
  },
  eventType: 'order.created',
};

test('the SASL password is masked like a function secret, and kept only while the connection points where it did', async () => {
  const store = new MemoryStore();
  const { gateway } = await newGateway(store, { connections: false });
  const created = await gateway.createConnection(KAFKA);
  expect(created.source).toMatchObject({ saslUsername: 'gateway', saslPassword: SECRET_MASK });
  expect(JSON.stringify(gateway.listConnections())).not.toContain(PASSWORD);
  expect(gateway.getConnection({ connectionId: 'orders', secrets: true }).source).toEqual(
    KAFKA.source,
  );
  // Read back and written back: the stored password stays.
  await gateway.updateConnection({ ...created, metadata: { a: 'b' } });
  expect(gateway.getConnection({ connectionId: 'orders', secrets: true }).source).toEqual(
    KAFKA.source,
  );
  // Another user, or other brokers: the password must be sent again.
  for (const change of [{ saslUsername: 'other' }, { brokers: '127.0.0.2:9092' }]) {
    await expectRefused(
      store,
      () => gateway.updateConnection({ ...created, source: { ...created.source, ...change } }),
      { code: 'VALIDATION_FAILED', message: /the secret must be sent again/ },
    );
  }
});

test('SASL options are validated as a set', async () => {
  const store = new MemoryStore();
  const { gateway } = await newGateway(store, { connections: false });
  for (const [source, message] of [
    [{ saslMechanism: 'gssapi' }, /"source.saslMechanism" must be one of plain, scram-sha-256/],
    [{ saslPassword: undefined }, /go together/],
    [{ saslMechanism: undefined, saslUsername: undefined }, /go together/],
  ] as const) {
    await expectRefused(
      store,
      () => gateway.createConnection({ ...KAFKA, source: { ...KAFKA.source, ...source } }),
      { code: 'VALIDATION_FAILED', message },
    );
  }
});

describe('against the Kafka mock', () => {
  let mock: RunningKafkaMock;
  beforeAll(async () => {
    mock = await startKafkaMock();
  });
  afterAll(async () => {
    await mock?.stop();
  });

  test('the client authenticates with the options (refused by a broker without SASL); the password shows nowhere', async () => {
    const errors: Error[] = [];
    const { gateway, runner } = await sinkSetUp(newGateway, newRunner, 'order.created', {
      reportError: (error) => void errors.push(error),
    });
    await gateway.createConnection({
      ...KAFKA,
      source: { ...KAFKA.source, brokers: mock.brokers.join(',') },
    });
    // kafkajs asks the broker for a SASL handshake first: the mock does not know the request.
    await until(() => runner.health()[0]?.lastError !== undefined, 'the handshake refused', 30_000);
    expect(runner.health()[0].lastError).toMatch(/does not support the requested API/);
    expect(runner.health()[0].accepted).toBe(0);
    const reported = errors.map((e) => `${e.message} ${String(e.cause)}`).join('\n');
    expect(JSON.stringify(runner.health()) + reported).not.toContain(PASSWORD);
  });
});
