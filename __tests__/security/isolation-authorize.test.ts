import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import {
  createConfigHandler,
  createDashboardHandler,
  createGateway,
  MemoryStore,
  type Gateway,
} from '../../lib';

// A host that checks tenants with its own `authorize` hook (a session, a JWT) rather than API
// keys: the hook must be able to tell "list what this caller may read" from "read what spans
// every space" (metrics), and what is listed must be what the hook allows.

let gateway: Gateway;
let servers: Server[];
let config: string;
let dashboard: ReturnType<typeof createDashboardHandler>;
let dash: string;
const asked: (string | undefined)[] = [];

/** The tenant is named by a header here (a session in real use); listing is allowed to anyone. */
const authorize = (
  req: { headers: Record<string, unknown> },
  at: { space: string | undefined },
) => {
  asked.push(at.space);
  return at.space === undefined || at.space === req.headers['x-tenant'];
};

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeEach(async () => {
  asked.length = 0;
  gateway = createGateway(new MemoryStore(), { resyncInterval: 0 });
  for (const space of ['tenant-a', 'tenant-b']) {
    await gateway.registerFunction({ space, functionId: `${space}-secret-fn`, handler: () => 1 });
  }
  dashboard = createDashboardHandler(gateway, { authorize });
  servers = [
    createServer(
      createConfigHandler(gateway, { authorize, metrics: () => gateway.listSpaces().join() }),
    ),
    createServer(dashboard),
  ];
  [config, dash] = await Promise.all(servers.map(listen));
});

afterEach(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  dashboard.dashboard.close();
  await gateway.close();
});

const get = async (url: string) => {
  const res = await request(url, { headers: { 'x-tenant': 'tenant-a' } });
  return { status: res.statusCode, text: await res.body.text() };
};

test("what spans every space is asked of the hook as '*', not as a listing", async () => {
  const metrics = await get(`${config}/v1/metrics`);
  expect(metrics.status).toBe(403);
  expect(metrics.text).not.toContain('tenant-b');
  expect(asked).toEqual(['*']);
});

test('the spaces listed are those the hook allows', async () => {
  for (const url of [`${config}/v1/spaces`, `${dash}/api/spaces`]) {
    const listed = await get(url);
    expect(listed).toEqual({ status: 200, text: JSON.stringify({ spaces: ['tenant-a'] }) });
  }
});
