/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import {
  createDashboardHandler,
  createGateway,
  MemoryStore,
  type ArchiveSource,
  type Gateway,
} from '../../lib';
import { FunctionServer } from '../helpers/function-server';

// What the dashboard tells a key for one space must not count, time or disturb another space.

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
const apiKeys = [
  { hash: sha256('key-a'), spaces: ['tenant-a'], scopes: ['read' as const] },
  { hash: sha256('key-b'), spaces: ['tenant-b'], scopes: ['read' as const] },
  { hash: sha256('admin'), spaces: '*' as const, scopes: ['read' as const] },
];

let gateway: Gateway;
let server: Server;
let handler: ReturnType<typeof createDashboardHandler>;
let base: string;
let failing: FunctionServer;

beforeEach(async () => {
  failing = await FunctionServer.start((_n, _req, res) => void res.writeHead(500).end());
  gateway = createGateway(new MemoryStore(), {
    resyncInterval: 0,
    retry: { maxAttempts: 1 },
    drainTimeout: 200,
  });
  handler = createDashboardHandler(gateway, { apiKeys, deadLetters: 10, maxClients: 8 });
  server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const space of ['tenant-a', 'tenant-b']) {
    await gateway.createEventType({ space, name: 'job.done' });
    await gateway.registerFunction({
      space,
      functionId: 'sink',
      type: 'http',
      provider: { url: failing.url },
    });
    await gateway.subscribe({ space, eventType: 'job.done', functionId: 'sink' });
  }
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  handler.dashboard.close();
  await gateway.close();
  await failing.stop();
});

const get = async (path: string, key: string) => {
  const res = await request(base + path, { headers: { 'x-api-key': key } });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
};

async function fail(space: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await gateway.emit(
      { specversion: '1.0', id: `${space}-${i}`, source: '/t', type: 'job.done' },
      {
        space,
        wait: true,
      } as never,
    );
  }
}

test("the status a key for one space reads does not move with another space's writes or load", async () => {
  const before = (await get('/api/status', 'key-a')).body;
  await gateway.createEventType({ space: 'tenant-b', name: 'another.one' });
  await gateway.registerFunction({
    space: 'tenant-b',
    functionId: 'slow',
    handler: () => new Promise(() => {}),
  });
  await gateway.subscribe({ space: 'tenant-b', eventType: 'another.one', functionId: 'slow' });
  await gateway.emit(
    { specversion: '1.0', id: 'b1', source: '/t', type: 'another.one' },
    { space: 'tenant-b' },
  );
  const after = (await get('/api/status', 'key-a')).body;
  expect(after).toEqual(before);
  // A key for every space sees the gateway's figures.
  const admin = (await get('/api/status', 'admin')).body;
  expect(admin).toMatchObject({ revision: expect.any(Number), pendingDeliveries: 1 });
});

test("one space's failures do not push another space's dead letters out", async () => {
  await fail('tenant-b', 2);
  await fail('tenant-a', 12);
  const b = (await get('/api/spaces/tenant-b/stats', 'key-b')).body;
  expect(b.deadLetters.map((l: { eventId: string }) => l.eventId)).toEqual([
    'tenant-b-0',
    'tenant-b-1',
  ]);
  const a = (await get('/api/spaces/tenant-a/stats', 'key-a')).body;
  expect(a.deadLetters).toHaveLength(10);
});

test("one space's open live feeds do not refuse another space's", async () => {
  const feeds = [];
  for (let i = 0; i < 8; i++) {
    const res = await request(`${base}/api/spaces/tenant-a/events`, {
      headers: { 'x-api-key': 'key-a' },
    });
    feeds.push(res);
    if (res.statusCode !== 200) break;
  }
  try {
    const b = await request(`${base}/api/spaces/tenant-b/events`, {
      headers: { 'x-api-key': 'key-b' },
    });
    feeds.push(b);
    expect(b.statusCode).toBe(200);
  } finally {
    for (const res of feeds) {
      res.body.on('error', () => undefined);
      res.body.destroy();
    }
  }
});

test("one space's replay dry run does not hold the form for another space", async () => {
  // An archive that never answers: each dry run lasts its whole timeout.
  const forever: ArchiveSource = {
    name: 'forever',
    read: () => ({
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => {}) }),
    }),
  };
  const replaying = createDashboardHandler(gateway, {
    apiKeys,
    replaySource: forever,
    replayLimits: { timeoutMs: 1500 },
  });
  const other = createServer(replaying);
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  const at = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  const dryRun = async (space: string, key: string) => {
    const res = await request(`${at}/api/spaces/${space}/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ from: '2026-12-01T00:00:00Z', to: '2026-12-01T01:00:00Z' }),
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
  };
  try {
    const a = dryRun('tenant-a', 'key-a');
    await new Promise((r) => setTimeout(r, 200));
    // A second of A's own waits its turn; B's runs.
    expect((await dryRun('tenant-a', 'key-a')).status).toBe(429);
    const b = await dryRun('tenant-b', 'key-b');
    expect(b).toMatchObject({ status: 200, body: { space: 'tenant-b', stoppedBy: 'timeout' } });
    expect((await a).status).toBe(200);
  } finally {
    replaying.dashboard.close();
    other.closeAllConnections();
    await new Promise((resolve) => other.close(resolve));
  }
});
