// The `event-gateway` command as a real child process, driven over HTTP and by Event Gateway
// 0.9's official JS SDK (@serverless/event-gateway-sdk).
import { request } from 'undici';
import { freePort } from '../../lib';
import { startStoreServer, type StoreServer } from '../helpers/store-servers';
import { functionServer, killChildren, run, start } from './cli-process';

jest.setTimeout(60_000);

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS package without types
const EventGatewaySDK = require('@serverless/event-gateway-sdk');

afterEach(killChildren);

test('--help and --version answer and exit 0; a bad flag or a port in use is one line and exit 2', async () => {
  const help = run(['--help']);
  expect(await help.exited).toBe(0);
  expect(help.output()).toContain('--events-port');
  const version = run(['-version']);
  expect(await version.exited).toBe(0);
  expect(version.output().trim()).toMatch(/^\d+\.\d+\.\d+/);
  for (const args of [
    ['-bogus'],
    ['--workers', 'many'],
    ['--dev', '--db-hosts', 'x:1'],
    ['--log-format', 'xml'],
  ]) {
    const bad = run(args);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr().trim().split('\n')).toHaveLength(1);
    expect(bad.stderr()).toMatch(/^event-gateway: /);
  }
  const first = await start(['--dev']);
  const port = new URL(first.events).port;
  const second = run(['--dev', '--events-port', port, '--config-port', '0']);
  expect(await second.exited).toBe(2);
  expect(second.stderr()).toBe(`event-gateway: the events port ${port} is in use.\n`);
});

test('an unreachable etcd is one line and exit 2', async () => {
  const port = await freePort();
  const gateway = run([
    '--db-hosts',
    `127.0.0.1:${port}`,
    '--events-port',
    '0',
    '--config-port',
    '0',
  ]);
  expect(await gateway.exited).toBe(2);
  // One line, naming the store and then what it last answered.
  expect(gateway.stderr()).toMatch(
    new RegExp(
      `^event-gateway: cannot reach etcd at 127\\.0\\.0\\.1:${port} \\(10 s\\): .*UNAVAILABLE.*\n$`,
    ),
  );
});

test('--dev, driven by the official SDK: every resource, emit async and sync, and a function that fails', async () => {
  const fn = await functionServer();
  const gateway = await start(['--dev', '--log-level', 'info', '--log-format', 'text']);
  const sdk = new EventGatewaySDK({
    url: gateway.events,
    configurationUrl: gateway.config,
    space: 'default',
  });
  try {
    await sdk.createEventType({ name: 'user.created', metadata: { team: 'a' } });
    await sdk.createEventType({ name: 'http.request' });
    expect((await sdk.listEventTypes()).map((e: { name: string }) => e.name).sort()).toEqual([
      'http.request',
      'user.created',
    ]);
    expect(await sdk.listEventTypes({ 'metadata.team': 'a' })).toEqual([
      expect.objectContaining({ name: 'user.created' }),
    ]);
    await expect(sdk.createEventType({ name: 'user.created' })).rejects.toThrow(
      'Failed to create user.created event type due the error: Event Type "user.created" already exists.',
    );
    expect(
      await sdk.updateEventType({ name: 'user.created', metadata: { team: 'b' } }),
    ).toMatchObject({
      metadata: { team: 'b' },
    });
    await sdk.createFunction({ functionId: 'hello', type: 'http', provider: { url: fn.url } });
    await expect(
      sdk.createFunction({ functionId: 'hello', type: 'http', provider: { url: fn.url } }),
    ).rejects.toThrow('Function "hello" already registered.');
    expect(await sdk.listFunctions()).toEqual([expect.objectContaining({ functionId: 'hello' })]);
    await sdk.updateFunction({
      functionId: 'hello',
      type: 'http',
      provider: { url: fn.url },
      metadata: { v: '2' },
    });
    const async = await sdk.subscribe({
      type: 'async',
      eventType: 'user.created',
      functionId: 'hello',
      path: '/',
    });
    await sdk.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'hello',
      path: '/hello',
      method: 'GET',
    });
    expect(await sdk.listSubscriptions()).toHaveLength(2);
    await sdk.createCORS({ method: 'GET', path: '/hello' });
    expect(await sdk.listCORS()).toEqual([expect.objectContaining({ corsId: 'GET%2Fhello' })]);
    await sdk.updateCORS({
      corsId: 'GET%2Fhello',
      method: 'GET',
      path: '/hello',
      allowedOrigins: ['https://a.example'],
    });
    await sdk.deleteCORS({ corsId: 'GET%2Fhello' });
    expect(await sdk.listCORS()).toEqual([]);
    await expect(sdk.deleteFunction({ functionId: 'hello' })).rejects.toThrow(
      "Function cannot be deleted because it's subscribed to a least one event.",
    );

    await sdk.emit({
      eventType: 'user.created',
      eventID: '1',
      cloudEventsVersion: '0.1',
      source: '/t',
      contentType: 'application/json',
      data: {},
    });
    const deadline = Date.now() + 5000;
    while (!fn.received.some((e) => e.id === '1') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(fn.received.map((e) => e.id)).toContain('1');
    const sync = await request(`${gateway.events}/hello`);
    expect(sync.statusCode).toBe(200);
    expect(await sync.body.text()).toBe('hello /hello');
    fn.state.fail = true;
    const failing = await request(`${gateway.events}/hello`);
    expect(failing.statusCode).toBe(500);
    expect(await failing.body.json()).toEqual({
      errors: [{ message: 'Function call failed. Please check logs.' }],
    });

    await sdk.unsubscribe({ subscriptionId: async.subscriptionId });
    await sdk.deleteEventType({ name: 'user.created' });
    await expect(sdk.deleteEventType({ name: 'user.created' })).rejects.toThrow(
      'Event Type "user.created" not found.',
    );
  } finally {
    fn.server.close();
  }
});

test('SIGTERM with deliveries in flight: new events get 503, every accepted one is delivered, exit 0', async () => {
  const fn = await functionServer(150);
  const gateway = await start(['--dev', '--workers', '4']);
  const post = (path: string, body: unknown) =>
    request(`${gateway.config}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await post('/v1/spaces/default/functions', {
    functionId: 'slow',
    type: 'http',
    provider: { url: fn.url },
  });
  await post('/v1/spaces/default/eventtypes', { name: 'job.created' });
  await post('/v1/spaces/default/subscriptions', {
    type: 'async',
    eventType: 'job.created',
    functionId: 'slow',
    path: '/',
  });
  const emit = (id: string) =>
    request(`${gateway.events}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', id, source: '/t', type: 'job.created' }),
    }).then((res) => res.statusCode);
  const ids = Array.from({ length: 20 }, (_, i) => `j${i}`);
  expect(await Promise.all(ids.map(emit))).toEqual(ids.map(() => 202));
  gateway.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(await emit('late')).toBe(503);
  expect(await gateway.exited).toBe(0);
  expect(fn.received.map((e) => e.id).sort()).toEqual([...ids].sort());
  expect(gateway.output()).toContain('"undelivered":0');
  fn.server.close();
});

describe.each(['etcd', 'zookeeper', 'consul'] as const)('two commands sharing one %s', (kind) => {
  let server: StoreServer;
  beforeAll(async () => {
    server = await startStoreServer(kind);
  });
  afterAll(() => server.dispose());

  test('a write on one is served by the other', async () => {
    const fn = await functionServer();
    // The function runs on this machine: loopback functions are refused unless allowed.
    const flags = [
      ...{
        etcd: ['-db-hosts', `127.0.0.1:${server.port}`],
        zookeeper: ['--zookeeper', `127.0.0.1:${server.port}`],
        consul: ['--consul', `http://127.0.0.1:${server.port}`],
      }[kind],
      '--allow-private-functions',
    ];
    const [a, b] = await Promise.all([start(flags), start(flags)]);
    const post = (path: string, body: unknown) =>
      request(`${a.config}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.statusCode);
    expect(
      await post('/v1/spaces/shared/functions', {
        functionId: 'fn',
        type: 'http',
        provider: { url: fn.url },
      }),
    ).toBe(201);
    expect(await post('/v1/spaces/shared/eventtypes', { name: 'order.placed' })).toBe(201);
    expect(
      await post('/v1/spaces/shared/subscriptions', {
        type: 'async',
        eventType: 'order.placed',
        functionId: 'fn',
        path: '/',
      }),
    ).toBe(201);
    // b serves what a wrote: its configuration API lists it, and its events API routes to it.
    const deadline = Date.now() + 5000;
    let listed: unknown[] = [];
    while (listed.length === 0 && Date.now() < deadline) {
      listed = (
        (await (await request(`${b.config}/v1/spaces/shared/subscriptions`)).body.json()) as {
          subscriptions: unknown[];
        }
      ).subscriptions;
    }
    expect(listed).toHaveLength(1);
    // The Events API serves the space the command was started for: `default`, so a second
    // subscription in it shows routing on b.
    await post('/v1/spaces/default/functions', {
      functionId: 'fn',
      type: 'http',
      provider: { url: fn.url },
    });
    await post('/v1/spaces/default/eventtypes', { name: 'order.placed' });
    await post('/v1/spaces/default/subscriptions', {
      type: 'async',
      eventType: 'order.placed',
      functionId: 'fn',
      path: '/',
    });
    let status = 0;
    while (!fn.received.some((e) => e.id === 'o1') && Date.now() < deadline + 5000) {
      status = (
        await request(`${b.events}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify({
            specversion: '1.0',
            id: 'o1',
            source: '/t',
            type: 'order.placed',
          }),
        })
      ).statusCode;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(202);
    expect(fn.received.map((e) => e.id)).toContain('o1');
    fn.server.close();
  });
});

test('--embed-etcd starts its own etcd, serves from it, and stops it on SIGTERM', async () => {
  const gateway = await start(['--embed-etcd']);
  expect(gateway.output()).toContain('"store":"EtcdStore"');
  const status = await request(`${gateway.config}/v1/status`);
  expect(status.statusCode).toBe(200);
  await status.body.text();
  const created = await request(`${gateway.config}/v1/spaces/default/eventtypes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'trial.started' }),
  });
  expect(created.statusCode).toBe(201);
  await created.body.text();
  gateway.child.kill('SIGTERM');
  expect(await gateway.exited).toBe(0);
});
