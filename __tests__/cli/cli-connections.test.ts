// The command's connections: the connections API on --connector-port (0.9's connector's port, the
// official SDK's `connectorUrl`) and on the Configuration API's, with the same keys and scopes;
// the connections it runs (a schedule firing into a real HTTP function), and --no-connections.
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionServer, killChildren, logLines, start, type Running } from './cli-process';

jest.setTimeout(60_000);

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS package without types
const EventGatewaySDK = require('@serverless/event-gateway-sdk');

afterEach(() => {
  killChildren();
  delete process.env.EVENT_GATEWAY_ACCESS_KEY;
});

/** The SDK pointed at a running command, its connector URL included. */
function sdkFor(gateway: Running) {
  return new EventGatewaySDK({
    url: gateway.events,
    configurationUrl: gateway.config,
    connectorUrl: gateway.connector,
    space: 'default',
  });
}

async function keysFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eg-cli-connections-'));
  const file = join(dir, 'keys.json');
  const hash = (key: string) => createHash('sha256').update(key).digest('hex');
  await writeFile(
    file,
    JSON.stringify([
      { name: 'ops', hash: hash('ops-key'), spaces: ['default'], scopes: ['read', 'write'] },
      { name: 'viewer', hash: hash('viewer-key'), spaces: ['default'], scopes: ['read'] },
      { name: 'other', hash: hash('other-key'), spaces: ['other'], scopes: ['read', 'write'] },
    ]),
  );
  return file;
}

const tick = {
  connectionId: 'tick',
  type: 'schedule',
  source: { cron: '0 3 * * *' },
  eventType: 'tick',
};

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  return check();
}

test('the official SDK creates, lists, updates and deletes connections on the connector port, which serves nothing else', async () => {
  const gateway = await start(['--dev']);
  const sdk = sdkFor(gateway);
  expect(await sdk.createConnection(tick)).toEqual({ space: 'default', ...tick });
  expect(await sdk.listConnections()).toEqual([{ space: 'default', ...tick }]);
  const updated = { ...tick, source: { cron: '0 4 * * *' }, metadata: { team: 'ops' } };
  expect(await sdk.updateConnection(updated)).toEqual({ space: 'default', ...updated });
  await expect(sdk.createConnection(tick)).rejects.toThrow(
    'Failed to create the connection due the error: Connection "tick" already exists.',
  );
  // The Configuration API's port answers the same paths.
  const listed = await fetch(`${gateway.config}/v1/spaces/default/connections`);
  expect(await listed.json()).toEqual({ connections: [{ space: 'default', ...updated }] });
  await sdk.deleteConnection({ connectionId: 'tick' });
  expect(await sdk.listConnections()).toEqual([]);
  await expect(sdk.deleteConnection({ connectionId: 'tick' })).rejects.toThrow(
    'Failed to delete the connection tick due the error: Connection "tick" not found.',
  );
  // The SDK's documented example names the connector's `target`: refused, saying why.
  await expect(sdk.createConnection({ ...tick, target: 'http://localhost:4001' })).rejects.toThrow(
    /Failed to create the connection due the error: .*target/,
  );

  // Only the connections API is on the connector port: not the other collections, however the
  // path is spelled, not the spaces or the metrics; the status is, for load balancers.
  for (const path of [
    '/v1/spaces/default/functions',
    '/v1/spaces/default/connections/../functions',
    '/v1/spaces/default/connections/%2e%2e/eventtypes',
    '/v1/spaces/default/%63ors',
    '/v1/spaces',
    '/v1/metrics',
  ]) {
    const res = await fetch(`${gateway.connector}${path}`);
    expect([path, res.status]).toEqual([path, 404]);
  }
  expect((await fetch(`${gateway.connector}/v1/status`)).status).toBe(200);
  const started = logLines(gateway.output()).find((l) => l.msg === 'event gateway started');
  expect(started).toMatchObject({
    connector: `127.0.0.1:${new URL(gateway.connector).port}`,
    connections: true,
  });
});

test('with API keys: the connector port asks for the same keys and scopes as the Configuration API', async () => {
  const gateway = await start(['--dev', '--api-keys-file', await keysFile()]);
  const sdk = sdkFor(gateway);
  // The SDK sends a key to a self-hosted gateway from EVENT_GATEWAY_ACCESS_KEY only.
  await expect(sdk.listConnections()).rejects.toThrow(/Failed to fetch the connection list/);
  const noKey = await fetch(`${gateway.connector}/v1/spaces/default/connections`);
  expect(noKey.status).toBe(401);
  process.env.EVENT_GATEWAY_ACCESS_KEY = 'viewer-key';
  expect(await sdk.listConnections()).toEqual([]);
  await expect(sdk.createConnection(tick)).rejects.toThrow(/Failed to create the connection/);
  process.env.EVENT_GATEWAY_ACCESS_KEY = 'other-key';
  await expect(sdk.createConnection(tick)).rejects.toThrow(/Failed to create the connection/);
  process.env.EVENT_GATEWAY_ACCESS_KEY = 'ops-key';
  expect(await sdk.createConnection(tick)).toMatchObject({ connectionId: 'tick' });
  expect(await sdk.listConnections()).toHaveLength(1);
  await sdk.deleteConnection({ connectionId: 'tick' });
  // The key's statuses, as the Configuration API answers them.
  for (const [key, method, status] of [
    ['viewer-key', 'POST', 403],
    ['other-key', 'GET', 403],
    ['wrong-key', 'GET', 401],
  ] as const) {
    for (const base of [gateway.connector, gateway.config]) {
      const res = await fetch(`${base}/v1/spaces/default/connections`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify(tick) } : {}),
      });
      expect([base, key, res.status]).toEqual([base, key, status]);
    }
  }
});

test('a schedule created through the SDK fires into a subscribed HTTP function; --no-connections runs none', async () => {
  const fn = await functionServer();
  try {
    for (const flags of [[], ['--no-connections'], ['--connections=false']]) {
      fn.received.length = 0;
      const gateway = await start(['--dev', ...flags]);
      const sdk = sdkFor(gateway);
      await sdk.createEventType({ name: 'tick' });
      await sdk.createFunction({ functionId: 'ticker', type: 'http', provider: { url: fn.url } });
      await sdk.subscribe({ type: 'async', eventType: 'tick', functionId: 'ticker', path: '/' });
      await sdk.createConnection({ ...tick, source: { cron: '* * * * * *' } });
      const runs = flags.length === 0;
      // Every second: three seconds are enough for a run, and show that none runs.
      expect(await until(() => fn.received.length > 0, runs ? 10_000 : 3_000)).toBe(runs);
      if (runs) {
        expect(fn.received[0].type).toBe('tick');
        // The command's metrics count it, labelled by space and connection.
        const metrics = await (await fetch(`${gateway.config}/v1/metrics`)).text();
        const accepted = metrics.match(
          /^eventgateway_connection_messages_total\{space="default",connection="tick",outcome="accepted"\} (\d+)$/m,
        );
        expect(Number(accepted?.[1])).toBeGreaterThanOrEqual(1);
      }
      const started = logLines(gateway.output()).find((l) => l.msg === 'event gateway started');
      expect(started?.connections).toBe(runs);
      gateway.child.kill('SIGTERM');
      expect(await gateway.exited).toBe(0);
    }
  } finally {
    fn.server.close();
  }
});

test('--connections-per-space and --min-schedule-interval: a tenant over HTTP gets 422 and writes nothing', async () => {
  const gateway = await start([
    '--dev',
    '--connections-per-space',
    '1',
    '--min-schedule-interval',
    '60000',
  ]);
  const post = async (body: unknown) => {
    const res = await fetch(`${gateway.connector}/v1/spaces/default/connections`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return [res.status, ((await res.json()) as { errors?: { message: string }[] }).errors];
  };
  expect(await post({ ...tick, source: { cron: '0,59 * * * * *' } })).toEqual([
    422,
    [{ message: expect.stringMatching(/ticks 1 s apart.*"limits.minScheduleInterval" is 60 s/) }],
  ]);
  expect((await post(tick))[0]).toBe(201);
  expect(await post({ ...tick, connectionId: 'tock' })).toEqual([
    422,
    [{ message: expect.stringMatching(/"limits.connectionsPerSpace" is 1/) }],
  ]);
  const sdk = sdkFor(gateway);
  expect(
    (await sdk.listConnections()).map((c: { connectionId: string }) => c.connectionId),
  ).toEqual(['tick']);
  for (const args of [
    ['--connections-per-space=-1'],
    ['--records-per-space', 'many'],
    ['--min-schedule-interval', '0'],
    ['--min-schedule-interval', '1.5'],
  ]) {
    const { run } = await import('./cli-process');
    const bad = run(['--dev', ...args]);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(
      /^event-gateway: --(connections-per-space|records-per-space|min-schedule-interval) must be/,
    );
  }
});

test('--records-per-space: a tenant (a client with an API key) past it gets 422 and writes nothing', async () => {
  const gateway = await start([
    '--dev',
    '--api-keys-file',
    await keysFile(),
    '--records-per-space',
    '2',
  ]);
  const register = async (functionId: string) => {
    const res = await fetch(`${gateway.config}/v1/spaces/default/functions`, {
      method: 'POST',
      headers: { authorization: 'Bearer ops-key', 'content-type': 'application/json' },
      body: JSON.stringify({ functionId, type: 'http', provider: { url: 'http://fn.example/' } }),
    });
    return [res.status, ((await res.json()) as { errors?: { message: string }[] }).errors];
  };
  expect((await register('one'))[0]).toBe(201);
  expect((await register('two'))[0]).toBe(201);
  expect(await register('three')).toEqual([
    422,
    [{ message: expect.stringMatching(/"limits.recordsPerSpace" is 2/) }],
  ]);
  const listed = await fetch(`${gateway.config}/v1/spaces/default/functions`, {
    headers: { authorization: 'Bearer ops-key' },
  });
  const { functions } = (await listed.json()) as { functions: { functionId: string }[] };
  expect(functions.map((f) => f.functionId).sort()).toEqual(['one', 'two']);
  gateway.child.kill('SIGTERM');
  expect(await gateway.exited).toBe(0);
});

test('the default limits hold without flags (100 connections a space, schedules parsed when written); "none" lifts them', async () => {
  const statuses = async (gateway: Running, count: number, cron = '0 3 * * *', id = 'c') => {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const res = await fetch(`${gateway.connector}/v1/spaces/default/connections`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...tick, connectionId: `${id}${i}`, source: { cron } }),
      });
      await res.body?.cancel();
      out.push(res.status);
    }
    return out;
  };
  const limited = await start(['--dev']);
  expect(await statuses(limited, 101)).toEqual([...Array(100).fill(201), 422]);
  limited.child.kill('SIGTERM');
  await limited.exited;
  const unlimited = await start([
    '--dev',
    '--connections-per-space',
    'none',
    '--min-schedule-interval=none',
  ]);
  expect(new Set(await statuses(unlimited, 101))).toEqual(new Set([201]));
  // Not parsed when written: the schedule reports its bad expression when it starts.
  expect(await statuses(unlimited, 1, '61 * * * *', 'bad')).toEqual([201]);
});

test('--connections takes true or false only; a taken connector port is one line and exit 2', async () => {
  const { run } = await import('./cli-process');
  for (const args of [
    ['--connections', 'maybe'],
    ['--no-connections', '--connections=true'],
  ]) {
    const bad = run(['--dev', ...args]);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/^event-gateway: --.*connections/);
  }
  const first = await start(['--dev']);
  const port = new URL(first.connector).port;
  const second = run([
    '--dev',
    '--events-port',
    '0',
    '--config-port',
    '0',
    '--connector-port',
    port,
  ]);
  expect(await second.exited).toBe(2);
  expect(second.stderr()).toBe(`event-gateway: the connector port ${port} is in use.\n`);
});

test('a subscription without a type, from the SDK: 0.9\u2019s validation error, before the references are checked', async () => {
  const gateway = await start(['--dev']);
  const sdk = sdkFor(gateway);
  // The SDK's own test (tests/subscriptions.test.js), word for word but for the event's name,
  // which this version of the SDK puts in its message (an older one said "undefined").
  await expect(
    sdk.subscribe({ functionId: 'none-exiting-function', eventType: 'pageVisited' }),
  ).rejects.toEqual(
    new Error(
      `Failed to subscribe the event pageVisited to the function none-exiting-function due the error: ` +
        `Subscription doesn't validate. Validation error: Key: 'Subscription.Type' Error:Field validation` +
        ` for 'Type' failed on the 'required' tag`,
    ),
  );
  // Without an event type (with a type): 0.9's 400 and its prefix, in this gateway's words.
  await expect(sdk.subscribe({ type: 'async', functionId: 'hello' })).rejects.toEqual(
    new Error(
      `Failed to subscribe the event undefined to the function hello due the error: ` +
        `Subscription doesn't validate. Validation error: "eventType" is required and must be a non-empty string.`,
    ),
  );
});
