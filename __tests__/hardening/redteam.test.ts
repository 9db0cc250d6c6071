import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import {
  createConfigHandler,
  HttpProvider,
  createEventsHandler,
  createGateway,
  MemoryStore,
  type DeadLetter,
} from '../../lib';
import { waitUntil } from '../../lib/testing';
import { cloudEvent } from '../helpers/events';
import { heapAfterGc } from '../helpers/heap';
import { FunctionServer, json } from '../helpers/function-server';
import { AWS_TEST, startMoto, type RunningMoto } from '../helpers/moto';
import { AwsClients } from '../../lib/delivery/providers/aws/aws-clients';
import { OutboundPolicy } from '../../lib/model/outbound-policy';

jest.setTimeout(60_000);

/** Red-team probes of the multi-tenant model: a hostile tenant key and a careless operator. */

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
const TENANT = 'Bearer tenant-key';

type Gateway = ReturnType<typeof createGateway>;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/** A gateway that tries each delivery once and keeps its dead letters. */
function lettersGateway(options: Parameters<typeof createGateway>[1] = {}) {
  const letters: DeadLetter[] = [];
  const gateway = createGateway(new MemoryStore(), {
    retry: { maxAttempts: 1 },
    onDeadLetter: (letter) => void letters.push(letter),
    ...options,
  });
  return { gateway, letters };
}

/** The Configuration API with a key for space `tenant` only (read and write). */
async function tenantApi(gateway: Gateway, extra: Record<string, unknown> = {}) {
  const server = createServer(
    createConfigHandler(gateway, {
      apiKeys: [{ hash: sha256('tenant-key'), spaces: ['tenant'], scopes: ['read', 'write'] }],
      ...extra,
    }),
  );
  const base = await listen(server);
  const call = (method: string, path: string, body?: unknown, headers = {}) =>
    fetch(base + path, {
      method,
      headers: { authorization: TENANT, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return { base, call, close: () => stop(server) };
}

describe('a tenant key never reaches loopback, private or link-local addresses', () => {
  test.each([
    'http://[::ffff:127.0.0.1]:PORT/',
    'http://[::ffff:7f00:1]:PORT/',
    'http://2130706433:PORT/',
    'http://0x7f.1:PORT/',
    'http://0177.0.0.1:PORT/',
    'http://127.1:PORT/',
    'http://0:PORT/',
    'http://0.0.0.0:PORT/',
    'http://[::]:PORT/',
    'http://[::1]:PORT/',
    'http://LOCALHOST.:PORT/',
    'http://localhost%2e:PORT/',
    'http://ⓛocalhost:PORT/',
    'http://[::ffff:169.254.169.254]/latest/',
    'http://[::ffff:a9fe:a9fe]/latest/',
    'http://169.254.169.254./latest/',
    'http://metadata.google.internal./',
    'http://METADATA.google.internal/',
    'http://[::ffff:10.0.0.1]/',
    'http://[fd00:ec2::254]/',
  ])('registering %s is refused (400) and stores nothing', async (spelling) => {
    const fn = await FunctionServer.start();
    const gateway = createGateway(new MemoryStore());
    const api = await tenantApi(gateway);
    try {
      const url = spelling.replace('PORT', new URL(fn.url).port);
      const answer = await api.call('POST', '/v1/spaces/tenant/functions', {
        functionId: 'f',
        type: 'http',
        provider: { url },
      });
      expect(answer.status).toBe(400);
      expect(gateway.listFunctions({ space: 'tenant' })).toEqual([]);
    } finally {
      await api.close();
      await gateway.close();
      await fn.stop();
    }
  });

  test('a name /etc/hosts points at 127.0.0.1 (`vm`, `runsc`) is refused at connect time: nothing reaches the server', async () => {
    const fn = await FunctionServer.start();
    const { gateway, letters } = lettersGateway({ space: 'tenant' });
    const api = await tenantApi(gateway);
    try {
      await gateway.createEventType({ name: 'e' });
      const port = new URL(fn.url).port;
      const registered: string[] = [];
      for (const host of ['vm', 'VM', 'runsc']) {
        const functionId = `f${registered.length}`;
        const answer = await api.call('POST', '/v1/spaces/tenant/functions', {
          functionId,
          type: 'http',
          provider: { url: `http://${host}:${port}/` },
        });
        if (answer.status === 201) {
          registered.push(functionId);
          await gateway.subscribe({ eventType: 'e', functionId });
        }
      }
      await gateway.emit(cloudEvent('e'));
      await waitUntil(() => letters.length === registered.length, 10_000);
      for (const letter of letters) expect(letter.error.message).toMatch(/outbound policy/);
      expect(fn.requests).toEqual([]);
    } finally {
      await api.close();
      await gateway.close();
      await fn.stop();
    }
  });

  test('an authorizer a tenant points at loopback is never called; the event is refused, not let through', async () => {
    const fn = await FunctionServer.start(json(200, { authorization: { ok: true } }));
    const gateway = createGateway(new MemoryStore(), { space: 'tenant' });
    const api = await tenantApi(gateway);
    const events = createServer(createEventsHandler(gateway));
    const eventsBase = await listen(events);
    try {
      const port = new URL(fn.url).port;
      expect(
        (
          await api.call('POST', '/v1/spaces/tenant/functions', {
            functionId: 'auth',
            type: 'http',
            provider: { url: `http://vm:${port}/` },
          })
        ).status,
      ).toBe(201);
      expect(
        (
          await api.call('POST', '/v1/spaces/tenant/eventtypes', {
            name: 'guarded',
            authorizerId: 'auth',
          })
        ).status,
      ).toBe(201);
      const answer = await fetch(eventsBase + '/', {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(cloudEvent('guarded')),
      });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(fn.requests).toEqual([]);
    } finally {
      await stop(events);
      await api.close();
      await gateway.close();
      await fn.stop();
    }
  });
});

describe("the Events API's key never reaches a function", () => {
  test("an event type's authorizer gets the request's headers without the API key (as http.request events do)", async () => {
    const authorizer = await FunctionServer.start(json(200, { authorization: { ok: true } }));
    const gateway = createGateway(new MemoryStore(), {
      space: 'tenant',
      tenantOutbound: { spaces: { tenant: { allowLoopback: true } } },
    });
    const api = await tenantApi(gateway);
    // The host's own emitters use one key for every space; tenants own their spaces' authorizers.
    const events = createServer(
      createEventsHandler(gateway, {
        apiKeys: [{ hash: sha256('emit-key-for-all-spaces'), spaces: '*', scopes: ['emit'] }],
      }),
    );
    const eventsBase = await listen(events);
    try {
      const register = await api.call('POST', '/v1/spaces/tenant/functions', {
        functionId: 'auth',
        type: 'http',
        provider: { url: authorizer.url },
      });
      expect(register.status).toBe(201);
      const type = await api.call('POST', '/v1/spaces/tenant/eventtypes', {
        name: 'guarded',
        authorizerId: 'auth',
      });
      expect(type.status).toBe(201);
      const keyHeaders: Record<string, string>[] = [
        { authorization: 'Bearer emit-key-for-all-spaces' },
        { 'x-api-key': 'emit-key-for-all-spaces' },
      ];
      for (const headers of keyHeaders) {
        const answer = await fetch(eventsBase + '/', {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json', cookie: 'a=b', ...headers },
          body: JSON.stringify(cloudEvent('guarded')),
        });
        expect(answer.status).toBe(202);
      }
      expect(authorizer.requests).toHaveLength(2);
      for (const { body } of authorizer.requests) {
        expect(body).not.toMatch(/emit-key-for-all-spaces/);
        expect(JSON.parse(body).request.headers.cookie).toBe('a=b');
      }
    } finally {
      await stop(events);
      await api.close();
      await gateway.close();
      await authorizer.stop();
    }
  });
});

describe("the gateway's own ports, even for a space opened to loopback", () => {
  test('the Configuration API`s port under an /etc/hosts alias or another loopback address: never delivered to', async () => {
    const { gateway, letters } = lettersGateway({
      space: 'tenant',
      tenantOutbound: { spaces: { tenant: { allowLoopback: true } } },
    });
    const api = await tenantApi(gateway);
    try {
      // One request served: the API's port is learned.
      expect((await api.call('GET', '/v1/spaces/tenant/functions')).status).toBe(200);
      const port = new URL(api.base).port;
      await gateway.createEventType({ name: 'e' });
      const refused: number[] = [];
      const subscribed: string[] = [];
      for (const host of [
        'vm',
        'runsc',
        '127.0.0.1',
        '127.0.0.2',
        '[::ffff:127.0.0.1]',
        'LOCALHOST.',
      ]) {
        const functionId = `f${subscribed.length + refused.length}`;
        const answer = await api.call('POST', '/v1/spaces/tenant/functions', {
          functionId,
          type: 'http',
          provider: { url: `http://${host}:${port}/v1/spaces/tenant/functions` },
        });
        if (answer.status === 201) {
          subscribed.push(functionId);
          await gateway.subscribe({ eventType: 'e', functionId });
        } else refused.push(answer.status);
      }
      expect(refused.every((status) => status === 400)).toBe(true);
      await gateway.emit(cloudEvent('e', { functionId: 'planted', type: 'http' }));
      await waitUntil(() => letters.length === subscribed.length, 10_000);
      for (const letter of letters) expect(letter.error.message).toMatch(/own endpoints/);
      expect(gateway.listFunctions({ space: 'tenant' }).map((f) => f.functionId)).not.toContain(
        'planted',
      );
    } finally {
      await api.close();
      await gateway.close();
    }
  });
});

describe('a tenant key stays in its space', () => {
  test('paths, bodies and encodings naming another space are refused or land in its own', async () => {
    const gateway = createGateway(new MemoryStore());
    await gateway.createEventType({ space: 'other', name: 'secret.type' });
    const api = await tenantApi(gateway);
    try {
      for (const path of [
        '/v1/spaces/other/eventtypes',
        '/v1/spaces/tenant/../other/eventtypes',
        '/v1/spaces/tenant/%2e%2e/other/eventtypes',
        '/v1/spaces/tenant/%2E%2E/other/eventtypes',
        '//v1/spaces/other/eventtypes',
        '/v1//spaces/other/eventtypes',
        '/v1/spaces/OTHER/eventtypes',
        '/v1/spaces/%6fther/eventtypes',
      ]) {
        const answer = await api.call('GET', path);
        const text = await answer.text();
        expect([403, 404]).toContain(answer.status);
        expect(text).not.toMatch(/secret\.type/);
      }
      const written = await api.call('POST', '/v1/spaces/tenant/eventtypes', {
        name: 'x',
        space: 'other',
      });
      expect(written.status).toBe(201);
      expect(gateway.listEventTypes({ space: 'other' }).map((t) => t.name)).toEqual([
        'secret.type',
      ]);
      const updated = await api.call('PUT', '/v1/spaces/tenant/eventtypes/x', {
        name: 'secret.type',
        space: 'other',
      });
      expect(updated.status).toBeLessThan(500);
      expect(gateway.getEventType({ space: 'other', name: 'secret.type' })).toBeDefined();
      expect(gateway.listEventTypes({ space: 'other' })).toHaveLength(1);
    } finally {
      await api.close();
      await gateway.close();
    }
  });

  test('raw request paths (sent as written, not normalised by a client) reach no other space', async () => {
    const { request } = await import('node:http');
    const gateway = createGateway(new MemoryStore());
    await gateway.createEventType({ space: 'other', name: 'secret.type' });
    const api = await tenantApi(gateway);
    const raw = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(api.base + '/', { path, headers: { authorization: TENANT } }, (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      for (const path of [
        '/v1/spaces/tenant/../other/eventtypes',
        '/v1/spaces/tenant/%2e%2e/other/eventtypes',
        '/v1/spaces/tenant/.%2E/other/eventtypes',
        '/v1/spaces/tenant\\..\\other/eventtypes',
        '/v1/spaces/tenant%5c..%5cother/eventtypes',
        '/v1/spaces/tenant%2f..%2fother/eventtypes',
        '//v1/spaces/other/eventtypes',
        'http://evil/v1/spaces/other/eventtypes',
        '/v1/spaces/other%00/eventtypes',
        '/v1/spaces/tenant;/../other/eventtypes',
      ]) {
        const { status, body } = await raw(path);
        expect(`${path} ${status}`).toMatch(/ (400|403|404)$/);
        expect(body).not.toMatch(/secret\.type/);
      }
    } finally {
      await api.close();
      await gateway.close();
    }
  });

  test('the space key cannot read the metrics of every space', async () => {
    const gateway = createGateway(new MemoryStore());
    const api = await tenantApi(gateway, {
      metrics: () => 'eventgateway_deliveries_total{space="other",function="payroll"} 3\n',
    });
    try {
      const answer = await api.call('GET', '/v1/metrics');
      expect(answer.status).toBe(403);
      expect(await answer.text()).not.toMatch(/payroll/);
    } finally {
      await api.close();
      await gateway.close();
    }
  });

  test('writes in any other media type, method or override are refused and change nothing', async () => {
    const gateway = createGateway(new MemoryStore());
    const api = await tenantApi(gateway);
    try {
      const body = { name: 'form' };
      for (const type of [
        'text/plain',
        'application/json, text/plain',
        'text/plain, application/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/merge-patch+json',
        'application/jsonx',
        ' application/json-seq',
      ]) {
        const answer = await api.call('POST', '/v1/spaces/tenant/eventtypes', body, {
          'content-type': type,
        });
        expect([400, 415]).toContain(answer.status);
      }
      for (const method of ['OPTIONS', 'PATCH']) {
        const answer = await api.call(method, '/v1/spaces/tenant/eventtypes', body);
        expect(answer.status).toBe(405);
      }
      const override = await api.call('GET', '/v1/spaces/tenant/eventtypes', undefined, {
        'x-http-method-override': 'POST',
        'x-method-override': 'DELETE',
      });
      expect(override.status).toBe(200);
      expect(gateway.listEventTypes({ space: 'tenant' })).toEqual([]);
      // 0.9's writes in the two cases it accepts.
      for (const type of ['APPLICATION/JSON', 'application/json;x']) {
        const answer = await api.call(
          'POST',
          '/v1/spaces/tenant/eventtypes',
          { name: `ok${type.length}` },
          { 'content-type': type },
        );
        expect(answer.status).toBe(201);
      }
      // Many query parameters and metadata tricks: a typed answer, never a 500.
      const many = Array.from({ length: 1200 }, (_, i) => `p${i}=${i}`).join('&');
      expect((await api.call('GET', `/v1/spaces/tenant/eventtypes?${many}`)).status).toBe(200);
      for (const query of [
        'metadata.__proto__=x',
        'metadata.=x',
        'metadata.a=1&metadata.a=2',
        'metadata.hasOwnProperty=x',
      ]) {
        expect((await api.call('GET', `/v1/spaces/tenant/functions?${query}`)).status).toBe(400);
      }
    } finally {
      await api.close();
      await gateway.close();
    }
  });
});

describe('a masked secret never follows a new destination', () => {
  test.each([
    ['path case', 'http://hooks.example/Hook?[redacted]'],
    ['explicit other port', 'http://hooks.example:8080/hook?[redacted]'],
    ['scheme', 'https://hooks.example/hook?[redacted]'],
    ['trailing dot', 'http://hooks.example./hook?[redacted]'],
    ['userinfo host trick', 'http://hooks.example@evil.example/hook?[redacted]'],
    ['backslash', 'http://evil.example\\@hooks.example/hook?[redacted]'],
  ])('%s: 400, and the stored secret is kept', async (_name, url) => {
    const gateway = createGateway(new MemoryStore(), { space: 'tenant' });
    try {
      await gateway.registerFunction({
        functionId: 'f',
        type: 'http',
        provider: { url: 'http://hooks.example/hook?token=s3cr3t-value' },
      });
      await expect(
        gateway.updateFunction({ functionId: 'f', type: 'http', provider: { url } }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(gateway.getFunction({ functionId: 'f', secrets: true }).provider.url).toBe(
        'http://hooks.example/hook?token=s3cr3t-value',
      );
    } finally {
      await gateway.close();
    }
  });

  test('the default port written out is the same destination (the secret is kept)', async () => {
    const gateway = createGateway(new MemoryStore(), { space: 'tenant' });
    try {
      await gateway.registerFunction({
        functionId: 'f',
        type: 'http',
        provider: { url: 'http://hooks.example/hook?token=s3cr3t-value' },
      });
      await gateway.updateFunction({
        functionId: 'f',
        type: 'http',
        provider: { url: 'http://HOOKS.example:80/hook?[redacted]' },
      });
      expect(gateway.getFunction({ functionId: 'f', secrets: true }).provider.url).toMatch(
        /token=s3cr3t-value/,
      );
    } finally {
      await gateway.close();
    }
  });
});

describe('redirects', () => {
  test('a 3xx is an answer, never followed to where it points', async () => {
    const target = await FunctionServer.start();
    const redirecting = await FunctionServer.start((_n, _req, res) => {
      res.writeHead(307, { location: target.url });
      res.end();
    });
    const { gateway, letters } = lettersGateway();
    try {
      await gateway.createEventType({ name: 'e' });
      await gateway.registerFunction({
        functionId: 'f',
        type: 'http',
        provider: { url: redirecting.url },
      });
      await gateway.subscribe({ eventType: 'e', functionId: 'f' });
      await gateway.emit(cloudEvent('e'));
      await waitUntil(() => letters.length === 1, 10_000);
      expect(letters[0].error.message).toMatch(/HTTP 307/);
      expect(target.requests).toEqual([]);
    } finally {
      await gateway.close();
      await target.stop();
      await redirecting.stop();
    }
  });
});

describe("a tenant's AWS function never uses the host's credentials", () => {
  let moto: RunningMoto;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  /** Host credentials in the environment, an SQS client for moto, and a queue of the host's. */
  async function hostQueue(name: string) {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIAHOSTKEYHOSTKEY00',
      AWS_SECRET_ACCESS_KEY: 'host-secret',
      AWS_SESSION_TOKEN: 'host-session-token',
    });
    const { SQSClient, CreateQueueCommand, ReceiveMessageCommand } =
      await import('@aws-sdk/client-sqs');
    const sqs = new SQSClient({
      region: AWS_TEST.region,
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    return {
      queueUrl: String(QueueUrl),
      received: async () =>
        (
          await sqs.send(
            new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 3, MaxNumberOfMessages: 10 }),
          )
        ).Messages ?? [],
      close: () => {
        process.env = saved;
        sqs.destroy();
      },
    };
  }

  /**
   * A gateway that signs for its emulator with its own credentials (as for a VPC endpoint), opens
   * loopback to space `tenant`, and serves that space's key.
   */
  async function tenantAwsGateway() {
    const { gateway, letters } = lettersGateway({
      space: 'tenant',
      aws: { credentialHosts: ['127.0.0.1', 'localhost'] },
      tenantOutbound: { spaces: { tenant: { allowLoopback: true } } },
    });
    return { gateway, letters, api: await tenantApi(gateway) };
  }

  test("the SDK's own warnings never print a queue URL's secrets (nor one line per delivery)", async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { gateway, letters } = lettersGateway();
    try {
      await gateway.createEventType({ name: 'e' });
      // No endpoint: the SDK uses the queue URL's host, and says so on every request.
      await gateway.registerFunction({
        functionId: 'q',
        type: 'awssqs',
        provider: {
          queueUrl: `${moto.endpoint}/123456789012/q?token=queue-url-secret-1234`,
          region: AWS_TEST.region,
          awsAccessKeyId: AWS_TEST.awsAccessKeyId,
          awsSecretAccessKey: AWS_TEST.awsSecretAccessKey,
        },
      });
      await gateway.subscribe({ eventType: 'e', functionId: 'q' });
      await gateway.emit(cloudEvent('e'));
      await waitUntil(() => letters.length === 1, 20_000);
      const printed = JSON.stringify(warn.mock.calls);
      expect(printed).not.toMatch(/queue-url-secret-1234/);
      expect(JSON.stringify(letters[0].error.message)).not.toMatch(/queue-url-secret-1234/);
    } finally {
      warn.mockRestore();
      await gateway.close();
    }
  });

  test("a tenant's twin of a host function is not batched with it: it never rides the host's client", async () => {
    const queue = await hostQueue('host-twin');
    const { gateway, letters, api } = await tenantAwsGateway();
    try {
      await gateway.createEventType({ name: 'e' });
      const provider = {
        queueUrl: queue.queueUrl,
        region: AWS_TEST.region,
        endpoint: moto.endpoint,
      };
      await gateway.registerFunction({ functionId: 'host', type: 'awssqs', provider });
      const answer = await api.call('POST', '/v1/spaces/tenant/functions', {
        functionId: 'twin',
        type: 'awssqs',
        provider,
      });
      expect(answer.status).toBe(201);
      await gateway.subscribe({ eventType: 'e', functionId: 'host' });
      await gateway.subscribe({ eventType: 'e', functionId: 'twin' });
      await gateway.emit(cloudEvent('e'));
      await waitUntil(() => letters.length === 1, 20_000);
      expect(letters[0].error.message).toMatch(/written by a tenant and has no AWS keys/);
      expect(await queue.received()).toHaveLength(1);
    } finally {
      await api.close();
      await gateway.close();
      queue.close();
    }
  });

  test('a tenant function without keys fails for good, even at a host AWS signs for (no confused deputy)', async () => {
    // The host's own queue, which its role may send to.
    const queue = await hostQueue('host-internal');
    const { gateway, letters, api } = await tenantAwsGateway();
    try {
      await gateway.createEventType({ name: 'e' });
      const answer = await api.call('POST', '/v1/spaces/tenant/functions', {
        functionId: 'q',
        type: 'awssqs',
        provider: { queueUrl: queue.queueUrl, region: AWS_TEST.region, endpoint: moto.endpoint },
      });
      expect(answer.status).toBe(201);
      await gateway.subscribe({ eventType: 'e', functionId: 'q' });
      await gateway.emit(cloudEvent('e'));
      expect(await queue.received()).toHaveLength(0);
      await waitUntil(() => letters.length === 1, 20_000);
      expect(letters[0].error.message).toMatch(/written by a tenant and has no AWS keys/);
    } finally {
      await api.close();
      await gateway.close();
      queue.close();
    }
  });
});

describe('what a tenant can make the gateway create is bounded', () => {
  test('a connection pool per origin ever used is not kept for good: 4,000 origins grow the heap little', async () => {
    // A port nothing listens on: each attempt is refused at once, on loopback.
    const probe = createServer();
    await listen(probe);
    const port = (probe.address() as AddressInfo).port;
    await stop(probe);
    const provider = new HttpProvider();
    const before = heapAfterGc();
    try {
      for (let i = 0; i < 4000; i++) {
        // 127.0.0.0/8 is all loopback: a new origin (as a tenant's new host name would be) each time.
        const host = `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
        const fn = {
          space: 'tenant',
          functionId: `f${i}`,
          type: 'http',
          provider: { url: `http://${host}:${port}/` },
        };
        await provider
          .invoke(fn, cloudEvent('e'), {
            space: 'tenant',
            functionId: fn.functionId,
            signal: new AbortController().signal,
            timeout: 5000,
            attempt: 1,
          })
          .catch(() => undefined);
      }
      const grown = heapAfterGc() - before;
      // Unbounded: some 20 KB per origin, 80 MB. Bounded: at most the cache's 1,024 pools.
      expect(grown).toBeLessThan(40 * 1024 * 1024);
    } finally {
      await provider.close();
    }
  });

  test('an SDK client per access key ever used is not kept for good: 3,000 keys grow the heap little', () => {
    const clients = new AwsClients({ outbound: new OutboundPolicy() });
    clients.client('sqs', {
      space: 'tenant',
      functionId: 'warm',
      type: 'awssqs',
      provider: { queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', region: 'us-east-1' },
    });
    const before = heapAfterGc();
    try {
      for (let i = 0; i < 3000; i++) {
        // As a tenant rotating its function's access key: each one a client of its own.
        clients.client('sqs', {
          space: 'tenant',
          functionId: 'f',
          type: 'awssqs',
          writer: 'tenant',
          provider: {
            queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q',
            region: 'us-east-1',
            awsAccessKeyId: `AKIDTENANT${i}`,
            awsSecretAccessKey: 'tenant-secret',
          },
        });
      }
      const grown = heapAfterGc() - before;
      // Unbounded: some 22 KB per client, 66 MB. Bounded: at most the cache's 512 clients.
      expect(grown).toBeLessThan(35 * 1024 * 1024);
    } finally {
      clients.close();
    }
  });
});

describe('filter work per request', () => {
  /** The main thread's CPU time in ms (Linux's scheduler statistics: waiting for a core left out). */
  const cpuMs = () =>
    Number(
      readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').split(' ')[0],
    ) / 1e6;
  const many = <T>(count: number, item: (k: number) => T): T[] =>
    Array.from({ length: count }, (_, k) => item(k));

  test('a batch of 100 events, each just under maxFilterWork, never holds the event loop for them all', async () => {
    const gateway = createGateway(new MemoryStore());
    const server = createServer(createEventsHandler(gateway));
    const url = await listen(server);
    try {
      await gateway.registerFunction({ functionId: 'h', handler: () => undefined });
      await gateway.createEventType({ name: 't' });
      for (let i = 0; i < 20; i++) {
        const tags = many(90, (k) => ({ wildcard: `item-*-zz${i}-${k}-*` }));
        await gateway.subscribe({ eventType: 't', functionId: 'h', filter: { data: { tags } } });
      }
      const costly = (length: number) =>
        cloudEvent('t', { tags: many(length, (k) => `item-${k}-xxxxxxxx`) });
      // The longest array an event may carry within the budget.
      let [lo, hi] = [1, 1000];
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        [lo, hi] = await gateway.emit(costly(mid)).then(
          () => [mid, hi],
          () => [lo, mid - 1],
        );
      }
      const batch = JSON.stringify(many(100, () => costly(lo)));
      let last = cpuMs();
      let longest = 0;
      const timer = setInterval(() => {
        const now = cpuMs();
        longest = Math.max(longest, now - last);
        last = now;
      }, 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      [last, longest] = [cpuMs(), 0];
      const answer = await fetch(url + '/', {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: batch,
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      clearInterval(timer);
      expect(answer.status).toBe(202);
      // Some 30 KB: unyielding, 100 events' worth of filter work (~650 ms here) in one turn.
      expect(longest).toBeLessThan(50);
    } finally {
      await stop(server);
      await gateway.close();
    }
  });
});

describe("a tenant's sync function cannot set the origin's cookies or CORS", () => {
  test('set-cookie and access-control-* from a tenant function are dropped; the host function keeps them', async () => {
    const answer = {
      statusCode: 200,
      headers: {
        'set-cookie': 'session=tenant; Path=/',
        'Access-Control-Allow-Origin': 'https://evil.example',
        'access-control-allow-credentials': 'true',
        'x-kept': 'yes',
      },
      body: 'hi',
    };
    const fn = await FunctionServer.start(json(200, answer));
    const gateway = createGateway(new MemoryStore(), {
      space: 'tenant',
      tenantOutbound: { spaces: { tenant: { allowLoopback: true } } },
    });
    const api = await tenantApi(gateway);
    const events = createServer(createEventsHandler(gateway));
    const eventsBase = await listen(events);
    try {
      const created = await api.call('POST', '/v1/spaces/tenant/functions', {
        functionId: 'tenants',
        type: 'http',
        provider: { url: fn.url },
      });
      expect(created.status).toBe(201);
      await gateway.registerFunction({
        functionId: 'hosts',
        type: 'http',
        provider: { url: fn.url },
      });
      await gateway.createEventType({ name: 'http.request' });
      for (const [functionId, path] of [
        ['tenants', '/tenant-page'],
        ['hosts', '/host-page'],
      ]) {
        await gateway.subscribe({
          type: 'sync',
          eventType: 'http.request',
          functionId,
          method: 'GET',
          path,
        });
      }
      const tenant = await fetch(eventsBase + '/tenant-page');
      expect(tenant.status).toBe(200);
      expect(tenant.headers.get('set-cookie')).toBeNull();
      expect(tenant.headers.get('access-control-allow-origin')).toBeNull();
      expect(tenant.headers.get('access-control-allow-credentials')).toBeNull();
      expect(tenant.headers.get('x-kept')).toBe('yes');
      const host = await fetch(eventsBase + '/host-page');
      expect(host.headers.get('set-cookie')).toBe('session=tenant; Path=/');
      expect(host.headers.get('access-control-allow-origin')).toBe('https://evil.example');
    } finally {
      await stop(events);
      await api.close();
      await gateway.close();
      await fn.stop();
    }
  });
});
