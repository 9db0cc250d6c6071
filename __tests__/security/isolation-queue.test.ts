import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { createConfigHandler, createEventsHandler, createGateway, MemoryStore } from '../../lib';
import type { Gateway } from '../../lib';
import { FunctionServer } from '../helpers/function-server';

// A tenant holding a key for its own space fills the gateway's one delivery queue with events for a
// function that never answers: another tenant's events must still be taken.

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
const apiKeys = [
  { hash: sha256('key-a'), spaces: ['tenant-a'], scopes: ['read', 'write', 'emit'] as const },
  { hash: sha256('key-b'), spaces: ['tenant-b'], scopes: ['read', 'write', 'emit'] as const },
].map((k) => ({ ...k, scopes: [...k.scopes] }));

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let gateway: Gateway;
let options: Parameters<typeof createGateway>[1];
let servers: Server[];
let hanging: FunctionServer;
let quick: FunctionServer;
let configUrl: string;
let eventsUrl: string;

beforeEach(async () => {
  hanging = await FunctionServer.start(() => undefined); // never answers
  quick = await FunctionServer.start();
  gateway = createGateway(new MemoryStore(), {
    resyncInterval: 0,
    queueSize: 40,
    concurrency: 4,
    timeout: 20_000,
    tenantOutbound: { allowLoopback: true },
    ...options,
  });
  // The Events API's space is the one the key names (a header here; a host name in real use).
  const config = createServer(createConfigHandler(gateway, { apiKeys }));
  const events = createServer(
    createEventsHandler(gateway, { apiKeys, space: (req) => String(req.headers['x-space']) }),
  );
  servers = [config, events];
  configUrl = await listen(config);
  eventsUrl = await listen(events);
});

afterEach(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await hanging.stop();
  await quick.stop();
  await gateway.close();
}, 30_000);

async function configure(key: string, space: string, url: string): Promise<void> {
  const post = async (collection: string, body: unknown) => {
    const res = await request(`${configUrl}/v1/spaces/${space}/${collection}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify(body),
    });
    expect([res.statusCode, await res.body.text()]).toEqual([201, expect.any(String)]);
  };
  await post('eventtypes', { name: 'job.queued' });
  await post('functions', { functionId: 'worker', type: 'http', provider: { url } });
  await post('subscriptions', { type: 'async', eventType: 'job.queued', functionId: 'worker' });
}

async function emit(key: string, space: string, id: string) {
  const res = await request(eventsUrl + '/', {
    method: 'POST',
    headers: {
      'content-type': 'application/cloudevents+json',
      'x-api-key': key,
      'x-space': space,
    },
    body: JSON.stringify({ specversion: '1.0', id, source: '/t', type: 'job.queued' }),
  });
  return { status: res.statusCode, text: await res.body.text() };
}

beforeAll(() => (options = { functionConcurrency: 2 }));

test("one tenant's hanging function cannot fill the queue against another tenant's events", async () => {
  await configure('key-a', 'tenant-a', hanging.url);
  await configure('key-b', 'tenant-b', quick.url);
  // Tenant A posts until the gateway refuses it.
  let refusedAt = -1;
  for (let i = 0; i < 200 && refusedAt < 0; i++) {
    const { status } = await emit('key-a', 'tenant-a', `a-${i}`);
    if (status !== 202) {
      expect(status).toBe(503);
      refusedAt = i;
    }
  }
  expect(refusedAt).toBeGreaterThan(0);
  // Tenant B's events are still taken, and delivered.
  for (let i = 0; i < 5; i++)
    expect(await emit('key-b', 'tenant-b', `b-${i}`)).toMatchObject({ status: 202 });
  while (quick.requests.length < 5) await new Promise((r) => setTimeout(r, 10));
  expect(quick.requests.map((r) => JSON.parse(r.body).id).sort()).toEqual([
    'b-0',
    'b-1',
    'b-2',
    'b-3',
    'b-4',
  ]);
});

describe('delivery slots', () => {
  beforeAll(() => (options = {}));

  test("one tenant's hanging function cannot hold every slot against another tenant's deliveries", async () => {
    await configure('key-a', 'tenant-a', hanging.url);
    await configure('key-b', 'tenant-b', quick.url);
    // Alone, A's function may take every slot (functionConcurrency defaults to concurrency).
    for (let i = 0; i < 8; i++) {
      expect(await emit('key-a', 'tenant-a', `a-${i}`)).toMatchObject({ status: 202 });
    }
    while (hanging.requests.length < 2) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    expect(await emit('key-b', 'tenant-b', 'b-0')).toMatchObject({ status: 202 });
    // Delivered now, not once A's attempts time out (20 s).
    while (quick.requests.length < 1 && Date.now() - started < 5_000) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(quick.requests.map((r) => JSON.parse(r.body).id)).toEqual(['b-0']);
    expect(hanging.requests.length).toBeLessThanOrEqual(2);
  });

  test('a gateway of one space still uses every slot and the whole queue', async () => {
    await configure('key-a', 'tenant-a', hanging.url);
    let accepted = 0;
    while ((await emit('key-a', 'tenant-a', `a-${accepted}`)).status === 202) accepted++;
    expect(accepted).toBe(44); // queueSize + concurrency
    while (hanging.requests.length < 4) await new Promise((r) => setTimeout(r, 10));
  });
});

describe('given shares', () => {
  beforeAll(() => (options = { spaceQueueSize: 3, spaceConcurrency: 1 }));

  test('hold a space to them even when it is the only one', async () => {
    await configure('key-a', 'tenant-a', hanging.url);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await emit('key-a', 'tenant-a', `a-${i}`));
    expect(statuses.map((s) => s.status)).toEqual([202, 202, 202, 503]);
    expect(statuses[3].text).toMatch(/for space \\"tenant-a\\".*3 of its 3 pending/);
    await new Promise((r) => setTimeout(r, 200));
    expect(hanging.requests).toHaveLength(1);
    expect(gateway.metrics().deliveriesPending).toBe(3);
  });

  test('are positive integers', () => {
    for (const bad of [0, -1, 1.5, NaN]) {
      expect(() => createGateway(new MemoryStore(), { spaceQueueSize: bad })).toThrow(
        /"spaceQueueSize" must be a positive integer/,
      );
      expect(() => createGateway(new MemoryStore(), { spaceConcurrency: bad })).toThrow(
        /"spaceConcurrency" must be a positive integer/,
      );
    }
  });
});
