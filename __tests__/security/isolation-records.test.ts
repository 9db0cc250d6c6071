import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { createConfigHandler, createGateway, MemoryStore, type Gateway } from '../../lib';

// A tenant with write scope in its own space creates records without end: every instance keeps
// every record in memory, and the store holds them all. Each kind is bounded per space for
// tenants' writes; the host's own writes are not.

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
const apiKeys = [{ hash: sha256('key-a'), spaces: ['tenant-a'], scopes: ['read', 'write'] }] as {
  hash: string;
  spaces: string[];
  scopes: ('read' | 'write')[];
}[];

let gateway: Gateway;
let server: Server;
let url: string;

beforeEach(async () => {
  gateway = createGateway(new MemoryStore(), {
    resyncInterval: 0,
    limits: { recordsPerSpace: 5 },
  });
  server = createServer(createConfigHandler(gateway, { apiKeys }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/spaces/tenant-a`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await gateway.close();
});

async function post(collection: string, body: unknown) {
  const res = await request(`${url}/${collection}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'key-a' },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

const KINDS: [string, (i: number) => unknown, () => number][] = [
  [
    'eventtypes',
    (i) => ({ name: `type.${i}` }),
    () => gateway.listEventTypes({ space: 'tenant-a' }).length,
  ],
  [
    'functions',
    (i) => ({ functionId: `f${i}`, type: 'http', provider: { url: `https://f${i}.example.com/` } }),
    () => gateway.listFunctions({ space: 'tenant-a' }).length,
  ],
  [
    'subscriptions',
    (i) => ({ type: 'async', eventType: 'http.request', functionId: 'target', path: `/p${i}` }),
    () => gateway.listSubscriptions({ space: 'tenant-a' }).length,
  ],
  [
    'cors',
    (i) => ({ method: 'GET', path: `/c${i}`, allowedOrigins: ['https://app.example.com'] }),
    () => gateway.listCors({ space: 'tenant-a' }).length,
  ],
];

test.each(KINDS)(
  'a tenant creates at most recordsPerSpace %s in its space',
  async (kind, body, count) => {
    // The host's own records count too, but are not limited.
    await gateway.registerFunction({
      space: 'tenant-a',
      functionId: 'target',
      type: 'http',
      provider: { url: 'https://target.example.com/' },
    });
    const before = count();
    const statuses: number[] = [];
    // Concurrent: the count is kept however many creates arrive at once.
    const results = await Promise.all(
      Array.from({ length: 8 - before }, (_, i) => post(kind, body(i))),
    );
    for (const r of results) statuses.push(r.status);
    expect(count()).toBe(5);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5 - before);
    const refused = results.filter((r) => r.status === 422);
    expect(refused).toHaveLength(3);
    expect(JSON.stringify(refused[0].body)).toMatch(/limits\.recordsPerSpace/);
  },
);

test("the host's own writes are not limited", async () => {
  for (let i = 0; i < 7; i++)
    await gateway.createEventType({ space: 'tenant-a', name: `host.${i}` });
  expect(gateway.listEventTypes({ space: 'tenant-a' })).toHaveLength(7);
  expect((await post('eventtypes', { name: 'tenant.one' })).status).toBe(422);
});

test('the limit is on by default, and null lifts it', () => {
  expect(gateway.options.limits.recordsPerSpace).toBe(5);
  const defaults = createGateway(new MemoryStore());
  const lifted = createGateway(new MemoryStore(), { limits: { recordsPerSpace: null } });
  expect(defaults.options.limits.recordsPerSpace).toBe(1000);
  expect(lifted.options.limits.recordsPerSpace).toBeUndefined();
  expect(() => createGateway(new MemoryStore(), { limits: { recordsPerSpace: -1 } })).toThrow(
    /"limits.recordsPerSpace" must be a non-negative integer/,
  );
  return Promise.all([defaults.close(), lifted.close()]);
});
