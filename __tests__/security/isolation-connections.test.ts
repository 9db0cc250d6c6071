import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { createConfigHandler, createGateway, MemoryStore, type Gateway } from '../../lib';

// A Kafka connection's consumer group is where its offsets live and how brokers share a topic's
// partitions: a tenant naming another space's group (or a name another space's default group
// also has) would take that space's messages, acknowledge them and turn them into its own events.

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
const apiKeys = ['acme', 'acme.prod'].map((space) => ({
  hash: sha256(`key-${space}`),
  spaces: [space],
  scopes: ['read' as const, 'write' as const],
}));

let gateway: Gateway;
let server: Server;
let base: string;

beforeEach(async () => {
  // The brokers are public names: the tenants' default policy lets them through.
  gateway = createGateway(new MemoryStore(), { resyncInterval: 0, connections: false });
  server = createServer(createConfigHandler(gateway, { apiKeys }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/spaces`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await gateway.close();
});

async function createKafka(space: string, connectionId: string, source: Record<string, unknown>) {
  const res = await request(`${base}/${space}/connections`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': `key-${space}` },
    body: JSON.stringify({
      connectionId,
      type: 'kafka',
      source: { brokers: 'kafka.example.com:9092', topic: 'orders', ...source },
      eventType: 'order.placed',
    }),
  });
  return { status: res.statusCode, text: await res.body.text() };
}

test("a tenant's Kafka connection cannot name another space's consumer group", async () => {
  expect(await createKafka('acme.prod', 'orders', {})).toMatchObject({ status: 201 });
  const stolen = await createKafka('acme', 'thief', { groupId: 'event-gateway.acme.prod.orders' });
  expect(stolen.status).toBe(400);
  expect(stolen.text).toMatch(/groupId/);
  // Nor the gateway's own groups, nor any other name.
  expect((await createKafka('acme', 'journal', { groupId: 'event-gateway' })).status).toBe(400);
  expect(gateway.listConnections({ space: 'acme' })).toEqual([]);
  // Its own default, given explicitly, is fine.
  const own = await createKafka('acme', 'mine', { groupId: 'event-gateway.acme.mine' });
  expect(own.status).toBe(201);
});

test("a tenant's Kafka connection ID cannot make another space's default group", async () => {
  expect(await createKafka('acme.prod', 'orders', {})).toMatchObject({ status: 201 });
  // Space "acme" + connection "prod.orders" = event-gateway.acme.prod.orders, "acme.prod"'s group.
  const lookalike = await createKafka('acme', 'prod.orders', {});
  expect(lookalike.status).toBe(400);
  expect(lookalike.text).toMatch(/connectionId/);
  expect(gateway.listConnections({ space: 'acme' })).toEqual([]);
});

test("the host's own connections keep choosing their groups", async () => {
  await gateway.createConnection({
    space: 'acme',
    connectionId: 'host.feed',
    type: 'kafka',
    source: { brokers: 'kafka.example.com:9092', topic: 'orders', groupId: 'shared-group' },
    eventType: 'order.placed',
  });
  expect(gateway.getConnection({ space: 'acme', connectionId: 'host.feed' }).source).toMatchObject({
    groupId: 'shared-group',
  });
});
