// The command's exposure, as real child processes: where its APIs listen (loopback unless API
// keys guard them), the warning when the Configuration API is open, and where functions may be.
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startStoreServer, type StoreServer } from '../helpers/store-servers';
import {
  configure,
  emit,
  functionServer,
  killChildren,
  logLines,
  start,
  startedLine,
} from './cli-process';

jest.setTimeout(60_000);

afterEach(killChildren);

/** Whether a TCP connection to host:port is accepted (this machine's own addresses only). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** An IPv4 address of this machine that is not loopback, if it has one. */
const ownAddress = Object.values(networkInterfaces())
  .flat()
  .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;

const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));
const warnings = (output: string) =>
  logLines(output).filter((line) => String(line.msg).startsWith('WARNING'));

test('without API keys both APIs listen on loopback only, and nothing warns', async () => {
  const gateway = await start(['--dev']);
  const [eventsPort, configPort] = [gateway.events, gateway.config].map((u) => +new URL(u).port);
  expect(await accepts('127.0.0.1', configPort)).toBe(true);
  // Another address of this very machine: refused (0.9 and the command before listened on all).
  if (ownAddress) {
    expect(await accepts(ownAddress, configPort)).toBe(false);
    expect(await accepts(ownAddress, eventsPort)).toBe(false);
  }
  const { events, config } = startedLine(gateway);
  expect(events).toBe(`127.0.0.1:${eventsPort}`);
  expect(config).toBe(`127.0.0.1:${configPort}`);
  expect(warnings(gateway.output())).toEqual([]);
});

test('--host and --config-host choose the addresses; a loopback one does not warn', async () => {
  const gateway = await start(['--dev', '--host', '127.0.0.2', '--config-host', '127.0.0.3']);
  const { events, config } = startedLine(gateway);
  expect(events).toMatch(/^127\.0\.0\.2:\d+$/);
  expect(config).toMatch(/^127\.0\.0\.3:\d+$/);
  expect(await accepts('127.0.0.2', portOf(events))).toBe(true);
  expect(await accepts('127.0.0.1', portOf(events))).toBe(false);
  expect(await accepts('127.0.0.3', portOf(config))).toBe(true);
  expect(await accepts('127.0.0.1', portOf(config))).toBe(false);
  // The connections API's own port listens where the Configuration API does.
  const { connector } = startedLine(gateway) as unknown as { connector: string };
  expect(connector).toMatch(/^127\.0\.0\.3:\d+$/);
  expect(await accepts('127.0.0.1', portOf(connector))).toBe(false);
  expect(warnings(gateway.output())).toEqual([]);
});

test('--host 0.0.0.0 without API keys: one loud WARN line says the Configuration API is open', async () => {
  const gateway = await start(['--dev', '--host', '0.0.0.0']);
  const { config } = startedLine(gateway);
  expect(config).toMatch(/^0\.0\.0\.0:\d+$/);
  if (ownAddress) expect(await accepts(ownAddress, portOf(config))).toBe(true);
  const [warning, ...more] = warnings(gateway.output());
  expect(more).toEqual([]);
  expect(warning).toMatchObject({ level: 40, config });
  expect(warning.msg).toMatch(
    /Configuration API at 0\.0\.0\.0:\d+ \(and its connections API at 0\.0\.0\.0:\d+\) has no API keys: anyone who can reach it/,
  );
  // Only the Configuration API open: the same warning, about it alone.
  const split = await start(['--dev', '--host', '127.0.0.1', '--config-host', '0.0.0.0']);
  expect(warnings(split.output())).toHaveLength(1);
  const closed = await start(['--dev', '--host', '0.0.0.0', '--config-host', '127.0.0.1']);
  expect(warnings(closed.output())).toEqual([]);
});

/** An --api-keys-file with one key, `tenant-key`, that may read and write every space. */
async function keysFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eg-cli-keys-'));
  const file = join(dir, 'keys.json');
  const hash = createHash('sha256').update('tenant-key').digest('hex');
  const key = { name: 'tenant', hash, spaces: '*', scopes: ['read', 'write'] };
  await writeFile(file, JSON.stringify([key]));
  return file;
}

test('with API keys the APIs listen on every interface, as in 0.9, and nothing warns', async () => {
  const gateway = await start(['--dev', '--api-keys-file', await keysFile()]);
  const { config } = startedLine(gateway);
  expect(config).toMatch(/^(\[::\]|0\.0\.0\.0):\d+$/);
  if (ownAddress) expect(await accepts(ownAddress, portOf(config))).toBe(true);
  expect(warnings(gateway.output())).toEqual([]);
  const listed = await request(`${gateway.config}/v1/spaces/default/functions`);
  expect(listed.statusCode).toBe(401);
  await listed.body.text();
});

describe('functions at loopback and private addresses', () => {
  let etcd: StoreServer;
  beforeAll(async () => {
    etcd = await startStoreServer('etcd');
  });
  afterAll(() => etcd?.dispose());

  const register = async (config: string, functionId: string, url: string) => {
    const res = await request(`${config}/v1/spaces/default/functions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ functionId, type: 'http', provider: { url } }),
    });
    return { status: res.statusCode, body: await res.body.text() };
  };

  test("never at the command's own ports, even where loopback is allowed", async () => {
    // No request has reached the Events API yet: the command protects its ports from the start.
    const gateway = await start(['--dev']);
    for (const own of [
      gateway.events,
      gateway.config.replace('127.0.0.1', 'localhost'),
      gateway.connector,
    ]) {
      const refused = await register(gateway.config, 'loop', `${own}/`);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatch(/one of the gateway's own endpoints/);
    }
  });

  test('API keys: what tenants register is held to the same policy, lifted by the same flags', async () => {
    const fn = await functionServer();
    const keys = ['--api-keys-file', await keysFile()];
    const asTenant = async (config: string, url: string) => {
      const res = await request(`${config}/v1/spaces/team/functions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer tenant-key' },
        body: JSON.stringify({ functionId: 'fn', type: 'http', provider: { url } }),
      });
      return { status: res.statusCode, body: await res.body.text() };
    };
    const strict = await start(['--db-hosts', `127.0.0.1:${etcd.port}`, ...keys]);
    expect(await asTenant(strict.config, fn.url)).toMatchObject({ status: 400 });
    for (const lenient of [
      await start(['--dev', ...keys]),
      await start(['--db-hosts', `127.0.0.1:${etcd.port}`, '--allow-private-functions', ...keys]),
    ]) {
      expect(await asTenant(lenient.config, 'http://169.254.169.254/')).toMatchObject({
        status: 400,
      });
      expect(await asTenant(lenient.config, fn.url)).toMatchObject({ status: 201 });
    }
    fn.server.close();
  });

  test('are refused by default; --allow-private-functions and --dev allow them', async () => {
    const fn = await functionServer();
    const store = ['--db-hosts', `127.0.0.1:${etcd.port}`];
    const strict = await start(store);
    for (const url of [fn.url, fn.url.replace('127.0.0.1', 'localhost'), 'http://10.0.0.8/']) {
      const refused = await register(strict.config, 'local', url);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatch(/blocked by the outbound policy/);
    }
    expect(startedLine(strict).privateFunctions).toBe(false);
    // Link-local (cloud metadata) stays refused whatever the flags.
    const allowing = await start([...store, '--allow-private-functions']);
    expect(startedLine(allowing).privateFunctions).toBe(true);
    expect((await register(allowing.config, 'meta', 'http://169.254.169.254/')).status).toBe(400);
    const dev = await start(['--dev']);
    expect((await register(dev.config, 'local', fn.url)).status).toBe(201);
    expect((await register(dev.config, 'meta', 'http://169.254.169.254/')).status).toBe(400);
    // What the lenient command registered, the strict one (same store) does not call.
    await configure(allowing.config, fn.url);
    const deadline = Date.now() + 10_000;
    while (!fn.received.some((e) => e.id === 'lenient') && Date.now() < deadline) {
      await emit(allowing.events, 'lenient');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(fn.received.map((e) => e.id)).toContain('lenient');
    expect(await emit(strict.events, 'strict')).toBe(202);
    const refusal = /"functionId":"fn","eventId":"strict".*blocked by the outbound policy/;
    while (!refusal.test(strict.output()) && Date.now() < deadline + 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(strict.output()).toMatch(refusal);
    expect(fn.received.map((e) => e.id)).not.toContain('strict');
    fn.server.close();
  });
});
