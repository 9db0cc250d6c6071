// The dashboard's replay dry run against a real archive: S3Archive on moto, mounted in node:http,
// Express 5 and Koa 3; and what a hostile or careless client sends it.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import express from 'express';
import Koa from 'koa';
import { createServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  createDashboardHandler,
  createGateway,
  expressDashboardMiddleware,
  koaDashboardMiddleware,
  MemoryStore,
  S3Archive,
  type ArchiveSource,
  type CloudEvent,
  type DashboardOptions,
  type Gateway,
} from '../../lib';
import { AWS_TEST, startMoto, type RunningMoto } from '../helpers/moto';
import { KEYS, listen, type Running } from './dashboard-hosts';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers */
const s3Config = (endpoint: string) => ({
  region: AWS_TEST.region,
  endpoint,
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  forcePathStyle: true,
});

let moto: RunningMoto;
let bucket: string;
/** The window the archived events of the test were accepted in. */
let from: string;
let to: string;

const HOSTS: [string, (g: Gateway, o: DashboardOptions) => Promise<Running>][] = [
  [
    'node:http',
    (g, o) => {
      const handler = createDashboardHandler(g, { apiKeys: KEYS, basePath: '/dashboard', ...o });
      return listen(createServer(handler), '/dashboard', handler.dashboard);
    },
  ],
  [
    'Express 5',
    (g, o) => {
      const app = express();
      // A host that parses JSON itself: the dashboard takes the parsed body.
      app.use(express.json());
      const middleware = expressDashboardMiddleware(g, { apiKeys: KEYS, ...o });
      app.use('/dashboard', middleware);
      return listen(createServer(app), '/dashboard', middleware.dashboard);
    },
  ],
  [
    'Koa 3',
    (g, o) => {
      const app = new Koa();
      const middleware = koaDashboardMiddleware(g, { apiKeys: KEYS, basePath: '/dashboard', ...o });
      app.use(middleware);
      return listen(createServer(app.callback()), '/dashboard', middleware.dashboard);
    },
  ],
];

/** A gateway with `ok` and `audit` subscribed to user.created and `ok` to order.placed, in aaa and bbb. */
async function configured(
  options: Parameters<typeof createGateway>[1] = {},
): Promise<{ gateway: Gateway; delivered: string[] }> {
  const delivered: string[] = [];
  const gateway = createGateway(new MemoryStore(), { resyncInterval: 0, ...options });
  for (const space of ['aaa', 'bbb']) {
    for (const functionId of ['ok', 'audit']) {
      await gateway.registerFunction({
        space,
        functionId,
        handler: (event) =>
          void delivered.push(`${space}/${functionId}/${(event as CloudEvent).id}`),
      });
    }
    await gateway.createEventType({ space, name: 'user.created' });
    await gateway.createEventType({ space, name: 'order.placed' });
    await gateway.subscribe({ space, eventType: 'user.created', functionId: 'ok' });
    await gateway.subscribe({ space, eventType: 'user.created', functionId: 'audit' });
    await gateway.subscribe({ space, eventType: 'order.placed', functionId: 'ok' });
  }
  await gateway.ready();
  return { gateway, delivered };
}

const event = (id: string, type: string): CloudEvent => ({
  specversion: '1.0',
  id,
  source: '/replay-test',
  type,
});

beforeAll(async () => {
  moto = await startMoto();
  const s3 = new S3Client(s3Config(moto.endpoint));
  bucket = `dashboard-replay-${Date.now()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  s3.destroy();
  // 30 events in aaa (20 user.created, 10 order.placed) and 7 in bbb, archived to S3.
  const writer = new S3Archive({ bucket, s3: s3Config(moto.endpoint), maxObjectAge: 100 });
  const { gateway } = await configured({ plugins: [writer] });
  from = new Date(Date.now() - 1000).toISOString();
  for (let i = 0; i < 30; i++) {
    await gateway.emit(event(`a-${i}`, i % 3 === 2 ? 'order.placed' : 'user.created'), {
      space: 'aaa',
    });
  }
  for (let i = 0; i < 7; i++) await gateway.emit(event(`b-${i}`, 'user.created'), { space: 'bbb' });
  await new Promise((r) => setTimeout(r, 20));
  to = new Date(Date.now() + 1000).toISOString();
  await gateway.close(); // writes what the archive buffers
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

const post = (base: string, space: string, key: string | undefined, body: unknown) =>
  fetch(`${base}/api/spaces/${space}/replay`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key ? { 'x-api-key': key } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe.each(HOSTS)('replay dry run mounted in %s', (_host, start) => {
  let gateway: Gateway;
  let delivered: string[];
  let running: Running;
  beforeEach(async () => {
    ({ gateway, delivered } = await configured());
    const reader = new S3Archive({ bucket, s3: s3Config(moto.endpoint), name: 'reader' });
    running = await start(gateway, { replaySource: reader });
  });
  afterEach(async () => {
    await running.close();
    await gateway.close();
  });

  test('a read-only tenant key counts its space’s window, per function, and nothing is sent', async () => {
    const described = await fetch(`${running.base}/api/spaces/aaa/replay`, {
      headers: { 'x-api-key': 'team-a-key' },
    });
    expect(await described.json()).toEqual({
      configured: true,
      maxWindowMs: 86_400_000,
      maxEvents: 100_000,
      timeoutMs: 10_000,
    });
    const response = await post(running.base, 'aaa', 'team-a-key', { from, to });
    expect(response.status).toBe(200);
    const result = (await response.json()) as any;
    expect(result).toMatchObject({
      space: 'aaa',
      from,
      to,
      read: 30,
      emitted: 30,
      refused: 0,
      deliveries: 50,
      byFunction: [
        { functionId: 'ok', deliveries: 30 },
        { functionId: 'audit', deliveries: 20 },
      ],
      functionsNotShown: 0,
      complete: true,
    });
    const typed = (await (
      await post(running.base, 'aaa', 'team-a-key', { from, to, type: 'order.placed' })
    ).json()) as any;
    expect(typed).toMatchObject({ read: 10, deliveries: 10, type: 'order.placed' });
    // A window before the events: nothing.
    const before = new Date(Date.parse(from) - 60_000).toISOString();
    expect(
      await (await post(running.base, 'aaa', 'admin-key', { from: before, to: from })).json(),
    ).toMatchObject({ read: 0, deliveries: 0, byFunction: [], complete: true });
    await new Promise((r) => setTimeout(r, 50));
    expect(delivered).toEqual([]);
  });
});

describe('replay dry run: what a hostile client sends', () => {
  let gateway: Gateway;
  let delivered: string[];
  let running: Running;
  let blackHole: TcpServer | undefined;
  const held = new Set<Socket>();
  beforeEach(async () => {
    ({ gateway, delivered } = await configured());
  });
  afterEach(async () => {
    await running?.close();
    await gateway.close();
    for (const socket of held) socket.destroy();
    held.clear();
    if (blackHole) await new Promise((r) => blackHole!.close(r));
    blackHole = undefined;
  });
  const reader = () => new S3Archive({ bucket, s3: s3Config(moto.endpoint), name: 'reader' });
  const expectError = async (response: Response, status: number, code?: string) => {
    const body = (await response.json()) as any;
    expect({ status: response.status, body }).toEqual({
      status,
      body: { errors: [expect.objectContaining(code ? { code } : {})] },
    });
  };

  test('bad times, reversed or huge windows, bad bodies and other spaces are refused, typed', async () => {
    running = await HOSTS[0][1](gateway, {
      replaySource: reader(),
      replayLimits: { maxWindowMs: 3_600_000 },
    });
    const { base } = running;
    const bad: unknown[] = [
      { from: 'yesterday', to },
      { from, to: '2026-12-05T10:00:00' }, // no offset: another instant on each host
      { from: '2026-13-45T10:00:00Z', to },
      { from: Date.parse(from), to: Date.parse(to) },
      { from, to: { $gt: 1 } },
      { from: `${from}\n`, to },
      { from: 'x'.repeat(2000), to },
      { from: to, to: from },
      { from, to: from },
      { from: '2000-01-01T00:00:00Z', to: '2026-12-05T00:00:00Z' }, // past maxWindowMs
      { from, to, type: 42 },
      { from, to, type: 'x'.repeat(1000) },
      [from, to],
      null,
    ];
    for (const body of bad) {
      const response = await post(base, 'aaa', 'admin-key', body);
      await expectError(response, 400, 'VALIDATION_FAILED');
    }
    expect((await post(base, 'aaa', 'admin-key', '{"from":')).status).toBe(400);
    expect(
      (await post(base, 'aaa', 'admin-key', JSON.stringify({ from, to, pad: 'x'.repeat(8000) })))
        .status,
    ).toBe(413);
    const plain = await fetch(`${base}/api/spaces/aaa/replay`, {
      method: 'POST',
      headers: { 'x-api-key': 'admin-key', 'content-type': 'text/plain' },
      body: JSON.stringify({ from, to }),
    });
    expect(plain.status).toBe(415);
    // Keys: none, unknown, write-only, and a tenant asking another space.
    expect((await post(base, 'aaa', undefined, { from, to })).status).toBe(401);
    expect((await post(base, 'aaa', 'nope', { from, to })).status).toBe(401);
    expect((await post(base, 'aaa', 'write-key', { from, to })).status).toBe(403);
    expect((await post(base, 'bbb', 'team-a-key', { from, to })).status).toBe(403);
    expect(
      (await fetch(`${base}/api/spaces/bbb/replay`, { headers: { 'x-api-key': 'team-a-key' } }))
        .status,
    ).toBe(403);
    expect(
      (
        await fetch(`${base}/api/spaces/aaa/replay`, {
          method: 'PUT',
          headers: { 'x-api-key': 'admin-key' },
        })
      ).status,
    ).toBe(405);
    // The same key on its own space still works, and nothing was ever sent.
    expect(((await (await post(base, 'aaa', 'team-a-key', { from, to })).json()) as any).read).toBe(
      30,
    );
    expect(((await (await post(base, 'bbb', 'admin-key', { from, to })).json()) as any).read).toBe(
      7,
    );
    expect(delivered).toEqual([]);
  });

  test('impossible calendar dates and times are refused, typed, not read as the next day', async () => {
    running = await HOSTS[0][1](gateway, {
      replaySource: reader(),
      replayLimits: { maxWindowMs: 3_600_000 },
    });
    // Each `from` is what Date.parse reads as a real instant half an hour before its `to` (February
    // 30 as March 2, 24:00 as the next day): a dry run of the wrong window, answered 200.
    const bad = [
      { from: '2026-02-30T00:00:00Z', to: '2026-03-02T00:30:00Z' },
      { from: '2026-02-29T00:00:00Z', to: '2026-03-01T00:30:00Z' }, // 2026 is no leap year
      { from: '2026-04-31T00:00:00+02:00', to: '2026-04-30T22:30:00Z' },
      { from: '2026-03-01T24:00:00Z', to: '2026-03-02T00:30:00Z' },
      { from: '2026-03-01T23:30:00Z', to: '2026-03-01T23:60:00Z' },
      { from: '2026-12-31T23:30:00Z', to: '2026-12-31T23:59:60Z' }, // a leap second
      { from: '2026-03-01T00:00:00+24:00', to: '2026-03-01T00:30:00Z' },
    ];
    for (const body of bad) {
      const response = await post(running.base, 'aaa', 'admin-key', body);
      await expectError(response, 400, 'VALIDATION_FAILED');
    }
    // A real February 29 still counts, at its own instant.
    const leapDay = { from: '2028-02-29T00:00:00Z', to: '2028-02-29T00:30:00.5+00:00' };
    const response = await post(running.base, 'aaa', 'admin-key', leapDay);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      from: '2028-02-29T00:00:00.000Z',
      to: '2028-02-29T00:30:00.500Z',
      read: 0,
    });
    expect(delivered).toEqual([]);
  });

  test('without an archive the endpoint says replay is not configured', async () => {
    running = await HOSTS[0][1](gateway, {});
    const described = await fetch(`${running.base}/api/spaces/aaa/replay`, {
      headers: { 'x-api-key': 'admin-key' },
    });
    expect(await described.json()).toEqual({ configured: false });
    await expectError(
      await post(running.base, 'aaa', 'admin-key', { from, to }),
      404,
      'REPLAY_NOT_CONFIGURED',
    );
  });

  test('a dry run stops at maxEvents and says it read a part of the window', async () => {
    running = await HOSTS[0][1](gateway, {
      replaySource: reader(),
      replayLimits: { maxEvents: 5 },
    });
    const result = (await (
      await post(running.base, 'aaa', 'admin-key', { from, to })
    ).json()) as any;
    expect(result).toMatchObject({ read: 5, complete: false, stoppedBy: 'maxEvents' });
  });

  test('another space’s records neither count against maxEvents nor show (a topic holds every space)', async () => {
    // Kafka's archive yields every space's records, in the order accepted: as this one does.
    const at = Date.parse(from) + 10;
    const record = (space: string, id: string) => ({
      space,
      method: 'POST',
      path: '/',
      acceptedAt: at,
      event: event(id, 'user.created') as unknown as Record<string, unknown>,
    });
    const mixed: ArchiveSource = {
      name: 'mixed',
      async *read() {
        for (let i = 0; i < 50; i++) yield record('bbb', `b-${i}`);
        for (let i = 0; i < 3; i++) yield record('aaa', `a-${i}`);
        for (let i = 0; i < 50; i++) yield record('bbb', `c-${i}`);
      },
    };
    running = await HOSTS[0][1](gateway, { replaySource: mixed, replayLimits: { maxEvents: 5 } });
    const result = (await (
      await post(running.base, 'aaa', 'team-a-key', { from, to })
    ).json()) as any;
    expect(result).toMatchObject({ read: 3, deliveries: 6, complete: true });
    expect(result.stoppedBy).toBeUndefined();
  });

  test('an archive that never answers: the dry run ends at its timeout, one at a time meanwhile', async () => {
    // An S3 endpoint that accepts connections and never answers.
    const server = (blackHole = createTcpServer((socket) => {
      held.add(socket);
      socket.on('error', () => {});
    }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const stuck = new S3Archive({
      bucket,
      s3: s3Config(`http://127.0.0.1:${port}`),
      name: 'stuck',
    });
    running = await HOSTS[0][1](gateway, {
      replaySource: stuck,
      replayLimits: { timeoutMs: 800 },
    });
    const started = Date.now();
    const first = post(running.base, 'aaa', 'admin-key', { from, to });
    // Until the first has started reading (its connection is held), then the others arrive at once.
    while (held.size === 0) await new Promise((r) => setTimeout(r, 10));
    const others = await Promise.all(
      Array.from({ length: 5 }, () => post(running.base, 'aaa', 'team-a-key', { from, to })),
    );
    for (const response of others) await expectError(response, 429, 'REPLAY_BUSY');
    const response = await first;
    const elapsed = Date.now() - started;
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ read: 0, complete: false, stoppedBy: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(700);
    expect(elapsed).toBeLessThan(5000);
    // Free again once it ended.
    const again = await post(running.base, 'aaa', 'admin-key', { from, to });
    expect(((await again.json()) as any).stoppedBy).toBe('timeout');
  });

  test('an archive that ignores its signal ends at the timeout, and at once when the dashboard closes', async () => {
    const forever: ArchiveSource = {
      name: 'forever',
      read: () => ({
        [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => {}) }),
      }),
    };
    running = await HOSTS[0][1](gateway, {
      replaySource: forever,
      replayLimits: { timeoutMs: 300 },
    });
    const timed = await post(running.base, 'aaa', 'admin-key', { from, to });
    expect(await timed.json()).toMatchObject({ read: 0, complete: false, stoppedBy: 'timeout' });

    const long = await HOSTS[0][1](gateway, {
      replaySource: forever,
      replayLimits: { timeoutMs: 60_000 },
    });
    try {
      const pending = post(long.base, 'aaa', 'admin-key', { from, to });
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      long.dashboard.close();
      await expectError(await pending, 503);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await long.close();
    }
  });

  test('the answer names at most 100 functions, and how many it left out', async () => {
    for (let i = 0; i < 120; i++) {
      await gateway.registerFunction({ space: 'aaa', functionId: `f${i}`, handler: () => {} });
      await gateway.subscribe({ space: 'aaa', eventType: 'order.placed', functionId: `f${i}` });
    }
    running = await HOSTS[0][1](gateway, { replaySource: reader() });
    const result = (await (
      await post(running.base, 'aaa', 'admin-key', { from, to, type: 'order.placed' })
    ).json()) as any;
    expect(result.deliveries).toBe(10 * 121);
    expect(result.byFunction).toHaveLength(100);
    expect(result.functionsNotShown).toBe(21);
    expect(delivered).toEqual([]);
  });
});
