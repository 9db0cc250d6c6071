// Connections as configuration: written through the gateway or the Configuration API at the
// Event Gateway Connector's paths, validated, stored under 0.9's key layout, seen by every
// instance, with their secrets masked like function secrets.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import {
  createConfigHandler,
  MemoryStore,
  SECRET_MASK,
  type ApiKey,
  type Gateway,
} from '../../lib';
import type { ConfigApiOptions } from '../../lib';
import { dump, expectRefused, gatewayFixture } from '../helpers/gateway';

const newGateway = gatewayFixture();
const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');

const TICK = {
  connectionId: 'tick',
  type: 'schedule' as const,
  source: { cron: '*/5 * * * * *' },
  eventType: 'clock.tick',
};
const PW = 'hunter2pw';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SQS = {
  connectionId: 'jobs',
  type: 'awssqs' as const,
  source: {
    queueUrl: `http://user:${PW}@127.0.0.1:1/123456789012/jobs`,
    region: 'us-east-1',
    awsAccessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    awsSecretAccessKey: AWS_SECRET,
  },
  cloudEvents: true,
};
const LEAK = new RegExp(`${PW}|${AWS_SECRET.slice(0, 12)}`);

describe('the gateway', () => {
  test('creates, reads, lists, updates and deletes connections, stored under the 0.9 layout and seen by another instance', async () => {
    const store = new MemoryStore();
    const { gateway } = await newGateway(store, { connections: false });
    const created = await gateway.createConnection(TICK);
    expect(created).toEqual({ space: 'default', ...TICK });
    expect(gateway.getConnection({ connectionId: 'tick' })).toEqual(created);
    expect(Object.keys(await dump(store))).toEqual([
      '/serverless-event-gateway/connections/default/tick',
    ]);
    const { gateway: other } = await newGateway(store, { connections: false });
    expect(other.listConnections()).toEqual([created]);

    const updated = await gateway.updateConnection({ ...TICK, metadata: { team: 'ops' } });
    expect(updated.metadata).toEqual({ team: 'ops' });
    expect(gateway.listConnections({ metadata: { team: 'ops' } })).toHaveLength(1);
    expect(gateway.listConnections({ metadata: { team: 'dev' } })).toHaveLength(0);
    await gateway.deleteConnection({ connectionId: 'tick' });
    expect(gateway.listConnections()).toEqual([]);
    await expect(gateway.deleteConnection({ connectionId: 'tick' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'Connection "tick" not found.',
    });
  });

  test('gives a connection without an ID a random one, and refuses a taken ID', async () => {
    const store = new MemoryStore();
    const { gateway } = await newGateway(store, { connections: false });
    const { connectionId } = await gateway.createConnection({ ...TICK, connectionId: undefined });
    expect(connectionId).toMatch(/^[0-9a-f-]{36}$/);
    await gateway.createConnection(TICK);
    await expectRefused(store, () => gateway.createConnection(TICK), {
      code: 'ALREADY_EXISTS',
      message: 'Connection "tick" already exists.',
    });
  });

  test.each([
    ['an unknown type', { ...TICK, type: 'ftp' }, /"type" must be one of schedule, kafka/],
    ['no target', { ...TICK, eventType: undefined }, /either "eventType" .* or "cloudEvents"/],
    ['two targets', { ...TICK, cloudEvents: true }, /either "eventType"/],
    ['a reserved type', { ...TICK, eventType: 'eventgateway.event.received' }, /reserved/],
    ['an unknown field', { ...TICK, target: 'http://x' }, /unknown field "target"/],
    ['an unknown option', { ...TICK, source: { cron: '* * * * *', x: 1 } }, /unknown field "x"/],
    ['a missing option', { ...SQS, source: { region: 'eu-west-1' } }, /"source.queueUrl"/],
    ['a bad cron', { ...TICK, source: { cron: '* * *' } }, /5 or 6 fields/],
    ['a cron with junk', { ...TICK, source: { cron: '* * * * $(x)' } }, /invalid field/],
    ['a bad URL', { ...SQS, source: { ...SQS.source, queueUrl: 'nope' } }, /absolute URL/],
    ['a bad broker', { ...TICK, type: 'kafka', source: { brokers: 'a b', topic: 't' } }, /URL/],
    [
      'half the credentials',
      { ...SQS, source: { ...SQS.source, awsAccessKeyId: undefined } },
      /go together/,
    ],
    ['too many in flight', { ...TICK, maxInFlight: 1e6 }, /"maxInFlight"/],
    ['a bad dead letter', { ...TICK, deadLetter: { queue: 'x' } }, /unknown field "queue"/],
    ['a bad ID', { ...TICK, connectionId: '../x' }, /"connectionId" must match/],
  ])('refuses %s with a ValidationError, changing nothing', async (_name, input, message) => {
    const store = new MemoryStore();
    const { gateway } = await newGateway(store, { connections: false });
    await expectRefused(store, () => gateway.createConnection(input as never), {
      code: 'VALIDATION_FAILED',
      message: new RegExp(`^Connection doesn't validate. Validation error: .*${message.source}`),
    });
  });

  test('masks source secrets like function secrets; a masked secret kept only while the source points where it did', async () => {
    const store = new MemoryStore();
    const { gateway } = await newGateway(store, { connections: false });
    const created = await gateway.createConnection(SQS);
    expect(JSON.stringify(created)).not.toMatch(LEAK);
    expect(created.source).toMatchObject({
      queueUrl: `http://${SECRET_MASK}@127.0.0.1:1/123456789012/jobs`,
      awsSecretAccessKey: SECRET_MASK,
    });
    expect(JSON.stringify(gateway.listConnections())).not.toMatch(LEAK);
    expect(gateway.getConnection({ connectionId: 'jobs', secrets: true }).source).toEqual(
      SQS.source,
    );
    // Read back and written back: the stored secrets stay.
    await gateway.updateConnection({ ...created, metadata: { a: 'b' } });
    expect(gateway.getConnection({ connectionId: 'jobs', secrets: true }).source).toEqual(
      SQS.source,
    );
    // Pointed elsewhere: the secret must be sent again.
    await expectRefused(
      store,
      () =>
        gateway.updateConnection({
          ...created,
          source: { ...created.source, queueUrl: `http://${SECRET_MASK}@127.0.0.2:1/1/jobs` },
        }),
      {
        code: 'VALIDATION_FAILED',
        message:
          /where the connection points changed \(source.queueUrl\): the secret must be sent again/,
      },
    );
    await expectRefused(store, () => gateway.createConnection({ ...created, connectionId: 'x' }), {
      code: 'VALIDATION_FAILED',
      message: /"source.awsSecretAccessKey" is "\[redacted\]", but no such secret is stored/,
    });
  });

  test('a dead-letter function must exist, and cannot be deleted while a connection names it', async () => {
    const store = new MemoryStore();
    const { gateway } = await newGateway(store, { connections: false });
    const withDeadLetter = { ...TICK, deadLetter: { functionId: 'refused' } };
    await expectRefused(store, () => gateway.createConnection(withDeadLetter), {
      code: 'NOT_FOUND',
      message: 'Function "refused" not found.',
    });
    await gateway.registerFunction({ functionId: 'refused', handler: () => undefined });
    await gateway.createConnection(withDeadLetter);
    await expectRefused(store, () => gateway.deleteFunction({ functionId: 'refused' }), {
      code: 'CONFLICT',
      message: /connection tick sends its refused messages to it/,
    });
    await gateway.deleteConnection({ connectionId: 'tick' });
    await gateway.deleteFunction({ functionId: 'refused' });
  });
});

describe('the Configuration API at the connector paths', () => {
  const ADMIN: ApiKey = {
    name: 'admin',
    hash: sha256('admin'),
    spaces: '*',
    scopes: ['read', 'write'],
  };
  const READER: ApiKey = { name: 'reader', hash: sha256('reader'), spaces: '*', scopes: ['read'] };

  async function serve(gateway: Gateway, options: ConfigApiOptions) {
    const server = createServer(createConfigHandler(gateway, options));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = async (method: string, path: string, body?: unknown, key = 'admin') => {
      const res = await request(base + path, {
        method: method as 'GET',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.body.text();
      return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
    };
    const close = () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    return { call, close };
  }

  test("answers the SDK's create (201), update (200), list ({connections}), get and delete (204), as tenant writes", async () => {
    const store = new MemoryStore();
    const { gateway } = await newGateway(store, {
      tenantOutbound: { allowLoopback: true },
      connections: false,
    });
    const api = await serve(gateway, { apiKeys: [ADMIN, READER] });
    try {
      const created = await api.call('POST', '/v1/spaces/team-a/connections', SQS);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        space: 'team-a',
        connectionId: 'jobs',
        writer: 'tenant',
      });
      expect(JSON.stringify(created.body)).not.toMatch(LEAK);
      const updated = await api.call('PUT', '/v1/spaces/team-a/connections/jobs', {
        ...created.body,
        metadata: { v: '2' },
      });
      expect(updated.status).toBe(200);
      expect(
        gateway.getConnection({ space: 'team-a', connectionId: 'jobs', secrets: true }).source,
      ).toEqual(SQS.source);
      const listed = await api.call('GET', '/v1/spaces/team-a/connections', undefined, 'reader');
      expect(listed).toMatchObject({
        status: 200,
        body: { connections: [{ connectionId: 'jobs' }] },
      });
      expect(JSON.stringify(listed.body)).not.toMatch(LEAK);
      expect((await api.call('GET', '/v1/spaces/team-a/connections/jobs')).status).toBe(200);
      expect(await api.call('GET', '/v1/spaces/team-a/connections/nope')).toEqual({
        status: 404,
        body: { errors: [{ message: 'Connection "nope" not found.' }] },
      });
      const before = await dump(store);
      const refused = await api.call('POST', '/v1/spaces/team-a/connections', TICK, 'reader');
      expect(refused.status).toBe(403);
      const removed = await api.call(
        'DELETE',
        '/v1/spaces/team-a/connections/jobs',
        undefined,
        'reader',
      );
      expect(removed.status).toBe(403);
      expect(await dump(store)).toEqual(before);
      expect((await api.call('DELETE', '/v1/spaces/team-a/connections/jobs')).status).toBe(204);
      expect(gateway.listConnections({ space: 'team-a' })).toEqual([]);
    } finally {
      await api.close();
    }
  });

  test("holds a tenant's source addresses to the tenants' outbound policy (400, nothing stored)", async () => {
    const store = new MemoryStore();
    const { gateway } = await newGateway(store, { connections: false });
    const api = await serve(gateway, { apiKeys: [ADMIN] });
    try {
      const before = await dump(store);
      for (const source of [
        { ...SQS.source, queueUrl: 'http://169.254.169.254/latest/meta-data/' },
        { ...SQS.source, endpoint: 'http://127.0.0.1:2379/' },
      ]) {
        const answer = await api.call('POST', '/v1/spaces/default/connections', { ...SQS, source });
        expect(answer.status).toBe(400);
        expect(answer.body.errors[0].message).toMatch(/is refused/);
      }
      const kafka = {
        ...TICK,
        type: 'kafka',
        source: { brokers: '10.0.0.1:9092,169.254.169.254:80', topic: 't' },
      };
      const answer = await api.call('POST', '/v1/spaces/default/connections', kafka);
      expect(answer.status).toBe(400);
      expect(await dump(store)).toEqual(before);
    } finally {
      await api.close();
    }
  });
});

test("a tenant's AWS connection needs keys of its own: the host's credentials never read a queue a tenant chose", async () => {
  const store = new MemoryStore();
  const { gateway } = await newGateway(store, {
    tenantOutbound: { allowLoopback: true },
    connections: false,
  });
  const keyless = { queueUrl: SQS.source.queueUrl, region: SQS.source.region };
  for (const type of ['awssqs', 'awskinesis']) {
    const source = type === 'awssqs' ? keyless : { streamName: 's', region: 'us-east-1' };
    await expectRefused(
      store,
      () => gateway.createConnection({ ...SQS, type, source } as never, { writer: 'tenant' }),
      { code: 'VALIDATION_FAILED', message: /needs its own "source.awsAccessKeyId"/ },
    );
  }
  // The host's own connection may use the SDK's default credentials.
  await gateway.createConnection({ ...SQS, source: keyless });
});
