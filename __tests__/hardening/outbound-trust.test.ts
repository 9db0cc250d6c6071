import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createConfigHandler,
  createEventsHandler,
  createGateway,
  EtcdStore,
  MemoryStore,
  OutboundPolicy,
  startEtcd,
  type DeadLetter,
  type RunningEtcd,
} from '../../lib';
import { waitUntil } from '../../lib/testing';
import { cloudEvent } from '../helpers/events';
import { FunctionServer } from '../helpers/function-server';
import { AWS_TEST, startMoto, type RunningMoto } from '../helpers/moto';

jest.setTimeout(60_000);

const ROOT = '/serverless-event-gateway/';
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Writes a function record straight into the store, as another instance (or an old one) would. */
async function writeRecord(store: MemoryStore | EtcdStore, record: Record<string, unknown>) {
  const key = `${ROOT}functions/${record.space}/${record.functionId}`;
  await store.put(key, JSON.stringify(record));
}

describe("the gateway never delivers to its store's endpoints", () => {
  let etcd: RunningEtcd;
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  test('a function at etcd`s /v3/kv/put is refused at registration, under every spelling of the host', async () => {
    const store = new EtcdStore({ hosts: etcd.endpoints });
    const gateway = createGateway(store);
    try {
      await gateway.ready();
      const port = etcd.clientPort;
      for (const host of [
        '127.0.0.1',
        'localhost',
        'LOCALHOST.',
        '127.0.0.2',
        '[::ffff:127.0.0.1]',
      ]) {
        await expect(
          gateway.registerFunction({
            functionId: 'writer',
            type: 'http',
            provider: { url: `http://${host}:${port}/v3/kv/put` },
          }),
        ).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
          message: expect.stringMatching(/own endpoints/),
        });
      }
      expect(await store.get(`${ROOT}functions/default/writer`)).toBeUndefined();
    } finally {
      await gateway.close();
      await store.close();
    }
  });

  test('a record another instance wrote is refused at delivery: the store is never written through it', async () => {
    const store = new EtcdStore({ hosts: etcd.endpoints });
    const letters: DeadLetter[] = [];
    const gateway = createGateway(store, {
      space: 'tenant',
      retry: { maxAttempts: 1 },
      onDeadLetter: (letter) => void letters.push(letter),
    });
    try {
      await gateway.ready();
      await writeRecord(store, {
        space: 'tenant',
        functionId: 'writer',
        type: 'http',
        provider: { url: `http://localhost:${etcd.clientPort}/v3/kv/put` },
      });
      await gateway.createEventType({ name: 'poke' });
      await waitUntil(() => gateway.listFunctions().length === 1);
      await gateway.subscribe({ eventType: 'poke', functionId: 'writer' });
      // etcd's JSON gateway takes `key` and `value` from the body and ignores the rest: the
      // event's extensions would be the request that rewrites another space's function.
      const victim = `${ROOT}functions/other/victim`;
      await gateway.emit({
        ...cloudEvent('poke'),
        key: b64(victim),
        value: b64('{"owned":true}'),
      });
      await waitUntil(() => letters.length === 1, 10_000);
      expect(letters[0].error.message).toMatch(/own endpoints/);
      expect(await store.get(victim)).toBeUndefined();
    } finally {
      await gateway.close();
      await store.close();
    }
  });
});

describe('the gateway never delivers to the ports it serves', () => {
  test('a function at the Events API`s own port is refused once the adapter has served a request', async () => {
    const store = new MemoryStore();
    const letters: DeadLetter[] = [];
    const gateway = createGateway(store, {
      retry: { maxAttempts: 1 },
      onDeadLetter: (letter) => void letters.push(letter),
    });
    const server: Server = createServer(createEventsHandler(gateway));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await gateway.createEventType({ name: 'loop' });
      await writeRecord(store, {
        space: 'default',
        functionId: 'self',
        type: 'http',
        provider: { url: `http://127.0.0.1:${port}/` },
      });
      await waitUntil(() => gateway.listFunctions().length === 1);
      await gateway.subscribe({ eventType: 'loop', functionId: 'self' });
      const answer = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(cloudEvent('loop')),
      });
      expect(answer.status).toBe(202);
      await waitUntil(() => letters.length === 1, 10_000);
      expect(letters[0].error.message).toMatch(/own endpoints/);
      // And registering one there is refused outright now.
      await expect(
        gateway.registerFunction({
          functionId: 'self2',
          type: 'http',
          provider: { url: `http://localhost:${port}/x` },
        }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await gateway.close();
    }
  });

  test('protectEndpoint and outbound.protect keep functions away before any request', async () => {
    const target = await FunctionServer.start();
    const other = await FunctionServer.start();
    const gateway = createGateway(new MemoryStore(), {
      outbound: { protect: [new URL(other.url).host] },
    });
    try {
      gateway.protectEndpoint(new URL(target.url).host);
      for (const url of [target.url, other.url]) {
        await expect(
          gateway.registerFunction({ functionId: 'f', type: 'http', provider: { url } }),
        ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      expect(() => gateway.protectEndpoint('no-port')).toThrow(TypeError);
    } finally {
      await gateway.close();
      await target.stop();
      await other.stop();
    }
  });
});

describe('host names are compared in one normal form', () => {
  test.each([
    ['vault.corp.example', 'http://vault.corp.example./'],
    ['vault.corp.example', 'http://VAULT.Corp.Example/'],
    ['vault.corp.example.', 'http://vault.corp.example/'],
    ['*.corp.example', 'http://vault.corp.example./'],
    ['*.CORP.example.', 'http://vault.corp.example/'],
    ['bücher.example', 'http://xn--bcher-kva.example/'],
    ['xn--bcher-kva.example', 'http://BÜCHER.example./'],
  ])('deny %s refuses %s', (deny, url) => {
    const policy = new OutboundPolicy({ deny: [deny] });
    expect(policy.urlProblem(new URL(url))).toMatch(/denied/);
  });

  test('an allow list matches the same names', () => {
    const policy = new OutboundPolicy({ allow: ['api.example.com'] });
    expect(policy.urlProblem(new URL('http://API.example.com./'))).toBeUndefined();
    expect(policy.addressProblem('203.0.113.5', 4, 'api.example.com.')).toBeUndefined();
    expect(policy.urlProblem(new URL('http://api.example.com.evil/'))).toMatch(/allow list/);
  });
});

describe('AWS functions', () => {
  let moto: RunningMoto;
  let tenantServer: FunctionServer;
  beforeAll(async () => {
    moto = await startMoto();
    tenantServer = await FunctionServer.start();
  });
  afterAll(async () => {
    await tenantServer?.stop();
    await moto?.stop();
  });

  /** Runs `body` with host credentials in the environment, as a host on AWS would have. */
  async function withHostCredentials(body: () => Promise<void>) {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIAHOSTKEYHOSTKEY00',
      AWS_SECRET_ACCESS_KEY: 'host-secret',
      AWS_SESSION_TOKEN: 'host-session-token',
    });
    try {
      await body();
    } finally {
      process.env = saved;
    }
  }

  test("a function with its own endpoint and no keys is never signed with the host's credentials", async () => {
    await withHostCredentials(async () => {
      const letters: DeadLetter[] = [];
      const gateway = createGateway(new MemoryStore(), {
        retry: { maxAttempts: 1 },
        onDeadLetter: (letter) => void letters.push(letter),
      });
      try {
        await gateway.createEventType({ name: 'e' });
        for (const [functionId, provider] of [
          [
            'lambda',
            {
              arn: 'arn:aws:lambda:us-east-1:1:function:f',
              region: 'us-east-1',
              endpoint: tenantServer.url,
            },
          ],
          ['sqs', { queueUrl: `${tenantServer.url}123/q`, region: 'us-east-1' }],
        ] as const) {
          await gateway.registerFunction({
            functionId,
            type: functionId === 'lambda' ? 'awslambda' : 'awssqs',
            provider: { ...provider },
          });
          await gateway.subscribe({ eventType: 'e', functionId });
        }
        await gateway.emit(cloudEvent('e'));
        await waitUntil(() => letters.length === 2, 20_000);
        for (const letter of letters) expect(letter.error.message).toMatch(/not an AWS endpoint/);
        const leaked = tenantServer.requests.filter((r) =>
          JSON.stringify(r.headers).includes('AKIAHOSTKEYHOSTKEY00'),
        );
        expect(leaked).toEqual([]);
        expect(tenantServer.requests).toEqual([]);
      } finally {
        await gateway.close();
      }
    });
  });

  test.each([['x'], [[1]], [['']], [{}]])('aws.credentialHosts %j is refused', (hosts) => {
    expect(() =>
      createGateway(new MemoryStore(), { aws: { credentialHosts: hosts as never } }),
    ).toThrow(/credentialHosts/);
  });

  test('aws.credentialHosts lets the host sign for an endpoint it lists', async () => {
    await withHostCredentials(async () => {
      const { SQSClient, CreateQueueCommand, ReceiveMessageCommand } =
        await import('@aws-sdk/client-sqs');
      const sqs = new SQSClient({
        region: AWS_TEST.region,
        endpoint: moto.endpoint,
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'listed' }));
      const gateway = createGateway(new MemoryStore(), {
        aws: { credentialHosts: ['127.0.0.1', 'localhost'] },
      });
      try {
        await gateway.createEventType({ name: 'e' });
        await gateway.registerFunction({
          functionId: 'q',
          type: 'awssqs',
          provider: {
            queueUrl: String(QueueUrl),
            region: AWS_TEST.region,
            endpoint: moto.endpoint,
          },
        });
        await gateway.subscribe({ eventType: 'e', functionId: 'q' });
        await gateway.emit(cloudEvent('e'));
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 10 }));
        expect(out.Messages).toHaveLength(1);
      } finally {
        await gateway.close();
        sqs.destroy();
      }
    });
  });

  test('a stricter instance refuses a loopback queue URL and endpoint another instance wrote, at connect time', async () => {
    const store = new MemoryStore();
    const letters: DeadLetter[] = [];
    const strict = createGateway(store, {
      outbound: { allowLoopback: false },
      retry: { maxAttempts: 1 },
      onDeadLetter: (letter) => void letters.push(letter),
    });
    try {
      await strict.createEventType({ name: 'e' });
      const keys = {
        awsAccessKeyId: AWS_TEST.awsAccessKeyId,
        awsSecretAccessKey: AWS_TEST.awsSecretAccessKey,
      };
      await writeRecord(store, {
        space: 'default',
        functionId: 'queue',
        type: 'awssqs',
        provider: { queueUrl: `${moto.endpoint}/123456789012/q`, region: 'us-east-1', ...keys },
      });
      await writeRecord(store, {
        space: 'default',
        functionId: 'stream',
        type: 'awskinesis',
        provider: { streamName: 's', region: 'us-east-1', endpoint: moto.endpoint, ...keys },
      });
      await waitUntil(() => strict.listFunctions().length === 2);
      await strict.subscribe({ eventType: 'e', functionId: 'queue' });
      await strict.subscribe({ eventType: 'e', functionId: 'stream' });
      await strict.emit(cloudEvent('e'));
      await waitUntil(() => letters.length === 2, 20_000);
      for (const letter of letters) expect(letter.error.message).toMatch(/outbound policy/);
    } finally {
      await strict.close();
    }
  });
});

describe("tenants' functions are held to tenantOutbound", () => {
  const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');

  async function serveConfig(gateway: ReturnType<typeof createGateway>) {
    const server = createServer(
      createConfigHandler(gateway, {
        apiKeys: [
          { hash: sha256('tenant-key'), spaces: ['tenant', 'ops'], scopes: ['read', 'write'] },
        ],
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      register: (space: string, url: string) =>
        fetch(`${base}/v1/spaces/${space}/functions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer tenant-key' },
          body: JSON.stringify({ functionId: 'hook', type: 'http', provider: { url } }),
        }),
      close: () => {
        server.closeAllConnections();
        return new Promise((resolve) => server.close(resolve));
      },
    };
  }

  test('a tenant key cannot register loopback or private functions; the host can; tenantOutbound.spaces opens one space', async () => {
    const fn = await FunctionServer.start();
    const gateway = createGateway(new MemoryStore(), {
      tenantOutbound: { spaces: { ops: { allowLoopback: true } } },
    });
    const api = await serveConfig(gateway);
    try {
      for (const url of [fn.url, 'http://10.1.2.3/hook', 'http://169.254.169.254/latest/']) {
        const answer = await api.register('tenant', url);
        expect(answer.status).toBe(400);
        expect(await answer.text()).toMatch(/outbound/);
      }
      expect(gateway.listFunctions({ space: 'tenant' })).toEqual([]);
      expect((await api.register('ops', fn.url)).status).toBe(201);
      await gateway.registerFunction({
        space: 'host',
        functionId: 'hook',
        type: 'http',
        provider: { url: fn.url },
      });
      expect(gateway.getFunction({ space: 'ops', functionId: 'hook' }).writer).toBe('tenant');
    } finally {
      await api.close();
      await gateway.close();
      await fn.stop();
    }
  });

  test("a tenant's record from the store is refused at delivery, not only at registration", async () => {
    const fn = await FunctionServer.start();
    const store = new MemoryStore();
    const letters: DeadLetter[] = [];
    const gateway = createGateway(store, {
      space: 'tenant',
      retry: { maxAttempts: 1 },
      onDeadLetter: (letter) => void letters.push(letter),
    });
    try {
      await gateway.createEventType({ name: 'e' });
      await writeRecord(store, {
        space: 'tenant',
        functionId: 'hook',
        type: 'http',
        provider: { url: fn.url },
        writer: 'tenant',
      });
      await waitUntil(() => gateway.listFunctions().length === 1);
      await gateway.subscribe({ eventType: 'e', functionId: 'hook' });
      await gateway.emit(cloudEvent('e'));
      await waitUntil(() => letters.length === 1, 10_000);
      expect(letters[0].error.message).toMatch(/outbound policy/);
      expect(fn.requests).toEqual([]);
    } finally {
      await gateway.close();
      await fn.stop();
    }
  });
});
