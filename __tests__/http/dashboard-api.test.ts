import express from 'express';
import Koa from 'koa';
import { createServer, request as httpRequest } from 'node:http';
import {
  createDashboardHandler,
  createGateway,
  expressDashboardMiddleware,
  koaDashboardMiddleware,
  MemoryStore,
  type DashboardGateway,
  type Gateway,
} from '../../lib';
import { KEYS, listen, type Running } from './dashboard-hosts';
import { waitUntil } from '../../lib/testing';
import { heapAfterGc } from '../helpers/heap';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers */
const SECRET_URL = 'http://user:hunter2@127.0.0.1:9/hook?token=s3cret';

const HOSTS: [string, (g: Gateway) => Promise<Running>][] = [
  [
    'node:http',
    (g) => {
      const handler = createDashboardHandler(g, { apiKeys: KEYS, basePath: '/dashboard' });
      return listen(createServer(handler), '/dashboard', handler.dashboard);
    },
  ],
  [
    'Express 5',
    (g) => {
      const app = express();
      const middleware = expressDashboardMiddleware(g, { apiKeys: KEYS });
      app.use('/dashboard', middleware);
      return listen(createServer(app), '/dashboard', middleware.dashboard);
    },
  ],
  [
    'Koa 3',
    (g) => {
      const app = new Koa();
      const appErrors: unknown[] = [];
      app.on('error', (error) => appErrors.push(error));
      const middleware = koaDashboardMiddleware(g, { apiKeys: KEYS, basePath: '/dashboard' });
      app.use(middleware);
      const server = createServer(app.callback());
      return listen(server, '/dashboard', middleware.dashboard).then((r) => ({ ...r, appErrors }));
    },
  ],
];

async function setUp(): Promise<Gateway> {
  const gateway = createGateway(new MemoryStore(), { retry: { maxAttempts: 1 } });
  await gateway.ready();
  for (const space of ['aaa', 'bbb']) {
    await gateway.registerFunction({ space, functionId: 'ok', handler: () => 'fine' });
    await gateway.registerFunction({
      space,
      functionId: 'hook',
      type: 'http',
      provider: { url: SECRET_URL },
    });
    await gateway.createEventType({ space, name: 'user.created' });
    await gateway.subscribe({ space, eventType: 'user.created', functionId: 'ok' });
  }
  return gateway;
}

const key = (k: string) => ({ headers: { 'x-api-key': k } });

/** Reads a feed until `until` matches what came, or the time is up. */
async function readFeed(body: ReadableStream<Uint8Array>, until: RegExp, ms = 3000) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + ms;
  while (!until.test(text) && Date.now() < deadline) {
    const chunk = await Promise.race([
      reader.read(),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), deadline - Date.now())),
    ]);
    if (!chunk || chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  await reader.cancel();
  return text;
}

describe.each(HOSTS)('dashboard mounted in %s', (_host, start) => {
  let gateway: Gateway;
  let running: Running;
  beforeEach(async () => {
    gateway = await setUp();
    running = await start(gateway);
  });
  afterEach(async () => {
    await running.close();
    await gateway.close();
  });

  test('serves the page, and its data only with a read key for the space', async () => {
    const page = await fetch(`${running.base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script src="dashboard.js"');
    expect((await fetch(`${running.base}/dashboard.js`)).status).toBe(200);

    expect((await fetch(`${running.base}/api/spaces`)).status).toBe(401);
    expect((await fetch(`${running.base}/api/spaces/aaa`)).status).toBe(401);
    expect((await fetch(`${running.base}/api/spaces/aaa`, key('nope'))).status).toBe(401);
    expect((await fetch(`${running.base}/api/spaces/aaa`, key('write-key'))).status).toBe(403);
    expect((await fetch(`${running.base}/api/spaces/bbb`, key('team-a-key'))).status).toBe(403);
    expect((await fetch(`${running.base}/api/spaces/bbb/events`, key('team-a-key'))).status).toBe(
      403,
    );
    expect(await (await fetch(`${running.base}/api/spaces`, key('team-a-key'))).json()).toEqual({
      spaces: ['aaa'],
    });
    const graph = (await (
      await fetch(`${running.base}/api/spaces/aaa`, key('team-a-key'))
    ).json()) as any;
    expect(graph.subscriptions).toHaveLength(1);
    expect(graph.functions.map((f: { functionId: string }) => f.functionId).sort()).toEqual([
      'hook',
      'ok',
    ]);
  });

  test('no response carries a function secret', async () => {
    // A delivery to the hook fails (nothing listens on port 9): its reason names the URL.
    await gateway.subscribe({ space: 'aaa', eventType: 'user.created', functionId: 'hook' });
    await gateway.emit(
      { specversion: '1.0', id: 'e1', source: '/t', type: 'user.created' },
      { space: 'aaa', wait: true },
    );
    const paths = ['/api/spaces/aaa', '/api/spaces/aaa/stats', '/api/status', '/api/spaces'];
    for (const path of paths) {
      const text = await (await fetch(running.base + path, key('admin-key'))).text();
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('s3cret');
    }
    const stats = (await (
      await fetch(`${running.base}/api/spaces/aaa/stats`, key('admin-key'))
    ).json()) as any;
    expect(stats.deadLetters).toEqual([
      expect.objectContaining({ functionId: 'hook', eventId: 'e1', reason: expect.any(String) }),
    ]);
  });

  test('streams the space’s events as server-sent events', async () => {
    const feed = await fetch(`${running.base}/api/spaces/aaa/events`, key('team-a-key'));
    expect(feed.status).toBe(200);
    expect(feed.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const read = readFeed(feed.body as ReadableStream<Uint8Array>, /"kind":"invoked"/);
    await gateway.emit(
      { specversion: '1.0', id: 'in-b', source: '/t', type: 'user.created' },
      { space: 'bbb', wait: true },
    );
    await gateway.emit(
      { specversion: '1.0', id: 'in-a', source: '/t', type: 'user.created', data: { pw: 'x' } },
      { space: 'aaa', wait: true },
    );
    const text = await read;
    expect(text.startsWith('retry: 2000\n\n')).toBe(true);
    const lines = text
      .split('\n\n')
      .filter((block) => block.startsWith('data: '))
      .map((block) => JSON.parse(block.slice(6)));
    // The order of the two is the gateway's (a local function may finish first).
    expect(lines.map((l) => [l.kind, l.eventId]).sort()).toEqual([
      ['invoked', 'in-a'],
      ['received', 'in-a'],
    ]);
    const invoked = lines.find((l) => l.kind === 'invoked');
    // Only a few fields: never the event's data or the function's result.
    expect(Object.keys(invoked).sort()).toEqual(
      ['at', 'attempts', 'durationMs', 'eventId', 'functionId', 'kind', 'space', 'type'].sort(),
    );
  });

  test('a feed closed by its client frees its slot', async () => {
    const client = new AbortController();
    const feed = await fetch(`${running.base}/api/spaces/aaa/events`, {
      ...key('admin-key'),
      signal: client.signal,
    });
    expect(feed.status).toBe(200);
    expect(running.dashboard.events.clientCount).toBe(1);
    client.abort();
    const deadline = Date.now() + 3000;
    while (running.dashboard.events.clientCount > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(running.dashboard.events.clientCount).toBe(0);
    // A closed tab is no error of the host's.
    expect(running.appErrors ?? []).toEqual([]);
  });
});

describe('dashboard status', () => {
  test('tells the store’s error (addresses) only to a key for every space', async () => {
    const gateway = await setUp();
    const failing = 'etcd at 10.1.2.3:2379: connection refused';
    const view: DashboardGateway = {
      on: gateway.on.bind(gateway),
      off: gateway.off.bind(gateway),
      functionMetrics: () => gateway.functionMetrics(),
      metrics: () => gateway.metrics(),
      listSpaces: () => gateway.listSpaces(),
      listEventTypes: (a) => gateway.listEventTypes(a),
      listFunctions: (a) => gateway.listFunctions(a),
      listSubscriptions: (a) => gateway.listSubscriptions(a),
      explain: (a) => gateway.explain(a),
      reportError: (e) => gateway.reportError(e),
      health: () => ({ ...gateway.health(), lastError: failing }),
    };
    const handler = createDashboardHandler(view, { apiKeys: KEYS });
    const running = await listen(createServer(handler), '', handler.dashboard);
    try {
      const team = (await (
        await fetch(`${running.base}/api/status`, key('team-a-key'))
      ).json()) as any;
      expect(team.storeFailing).toBe(true);
      expect(JSON.stringify(team)).not.toContain('10.1.2.3');
      const admin = (await (
        await fetch(`${running.base}/api/status`, key('admin-key'))
      ).json()) as any;
      expect(admin.storeError).toBe(failing);
      expect(admin.plugins).toEqual([]);
      expect(team.plugins).toBeUndefined();
      expect((await fetch(`${running.base}/api/status`)).status).toBe(401);
    } finally {
      await running.close();
      await gateway.close();
    }
  });
});

describe('dashboard live feed under load', () => {
  let gateway: Gateway;
  let running: Running;
  beforeEach(async () => {
    gateway = await setUp();
    const handler = createDashboardHandler(gateway, {
      clientBuffer: 50,
      maxClients: 2,
      maxClientsPerSpace: 2,
    });
    running = await listen(createServer(handler), '', handler.dashboard);
  });
  afterEach(async () => {
    await running.close();
    await gateway.close();
  });

  test('a client that does not read holds a bounded buffer; the rest are dropped and counted', async () => {
    const { port } = new URL(running.base);
    // A raw request whose socket is paused: the server's writes back up.
    const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/api/spaces/aaa/events' }, resolve);
      req.on('error', reject).end();
    });
    expect(response.statusCode).toBe(200);
    response.pause();
    const before = heapAfterGc();
    const big = 'x'.repeat(240);
    const source = `/${'s'.repeat(450)}`;
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) {
      // Long IDs and sources make each line large, so the socket fills fast.
      gateway
        .emit(
          { specversion: '1.0', id: `${big}${i}`, source, type: `user.created` },
          { space: 'aaa' },
        )
        .catch(() => undefined);
      if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 300));
    const emitMs = performance.now() - started;
    const grown = heapAfterGc() - before;
    // 40,000 lines of ~500 bytes would be 20 MB queued; the bound keeps it to 50 + the socket's.
    expect(grown).toBeLessThan(15 * 1024 * 1024);
    expect(emitMs).toBeLessThan(20_000);
    // Now read until the feed is quiet: the lines that came and the drops it counted account for
    // every event, and most were dropped rather than queued. Deliveries first end (on a loaded
    // machine one could succeed after the quiet read, its line lost with the closed response).
    await waitUntil(() => gateway.metrics().deliveriesPending === 0, 20_000);
    response.resume();
    let text = '';
    response.setEncoding('utf8');
    await new Promise<void>((resolve) => {
      let quiet = setTimeout(resolve, 1000);
      response.on('data', (chunk: string) => {
        text += chunk;
        clearTimeout(quiet);
        quiet = setTimeout(resolve, 500);
      });
    });
    response.destroy();
    const blocks = text.split('\n\n');
    const shown = blocks.filter((block) => block.startsWith('data: {')).length;
    const dropped = blocks
      .map((block) => /^event: dropped\ndata: (\d+)$/.exec(block)?.[1])
      .reduce((sum, n) => sum + Number(n ?? 0), 0);
    const { eventsReceived, deliveriesSucceeded } = gateway.metrics();
    expect(shown + dropped).toBe(eventsReceived + deliveriesSucceeded);
    expect(dropped).toBeGreaterThan(10_000);
  });

  test('refuses a feed past maxClients with 503, and frees the slot when a client leaves', async () => {
    const one = new AbortController();
    const first = await fetch(`${running.base}/api/spaces/aaa/events`, { signal: one.signal });
    const second = await fetch(`${running.base}/api/spaces/aaa/events`);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect((await fetch(`${running.base}/api/spaces/aaa/events`)).status).toBe(503);
    one.abort();
    await expect(first.text()).rejects.toThrow();
    const deadline = Date.now() + 3000;
    while (running.dashboard.events.clientCount > 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(running.dashboard.events.clientCount).toBe(1);
    await second.body?.cancel();
  });

  test('hears what every delivery raises only while a feed is open', async () => {
    // The gateway builds a system event's payload only for a listener: none while nobody watches.
    const listeners = (name: string) => (gateway as any).events.listenerCount(name) as number; // the gateway's own emitter
    expect([listeners('function.invoked'), listeners('event.received')]).toEqual([0, 0]);
    expect(listeners('function.invocationFailed')).toBe(1);
    const feed = running.dashboard.events.open(new Set(['aaa']));
    expect([listeners('function.invoked'), listeners('event.received')]).toEqual([1, 1]);
    feed?.destroy();
    expect([listeners('function.invoked'), listeners('event.received')]).toEqual([0, 0]);
    running.dashboard.close();
    expect(listeners('function.invocationFailed')).toBe(0);
  });

  test('counts each function’s deliveries without listening to them', async () => {
    await gateway.emit(
      { specversion: '1.0', id: 'c1', source: '/t', type: 'user.created' },
      { space: 'aaa', wait: true },
    );
    const [ok] = running.dashboard.events.functionStats('aaa');
    expect(ok.functionId).toBe('ok');
    expect(ok.buckets.map((b) => [b.succeeded, b.failed, b.timed])).toEqual([[1, 0, 0]]);
  });

  test('keeps the last dead letters only', async () => {
    const handler = createDashboardHandler(gateway, { deadLetters: 3 });
    try {
      await gateway.registerFunction({
        space: 'aaa',
        functionId: 'bad',
        handler: () => {
          throw new Error('no thanks');
        },
      });
      await gateway.subscribe({ space: 'aaa', eventType: 'user.created', functionId: 'bad' });
      for (let i = 0; i < 10; i++) {
        await gateway.emit(
          { specversion: '1.0', id: `d${i}`, source: '/t', type: 'user.created' },
          { space: 'aaa', wait: true },
        );
      }
      const letters = handler.dashboard.events.deadLetters('aaa');
      expect(letters.map((l) => l.eventId)).toEqual(['d7', 'd8', 'd9']);
      expect(letters[0].reason).toContain('no thanks');
      const [stats] = handler.dashboard.events
        .functionStats('aaa')
        .filter((f) => f.functionId === 'bad');
      expect(stats.buckets.reduce((n, b) => n + b.failed, 0)).toBe(10);
    } finally {
      handler.dashboard.close();
    }
  });
});
