import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import {
  createConfigHandler,
  MemoryStore,
  OutboundPolicy,
  type ConfigApiOptions,
  type Gateway,
} from '../../lib';
import { Catalog } from '../../lib/cache/catalog';
import { planRegisterFunction, planUpdateFunction } from '../../lib/config/function-rules';
import { KeyLayout } from '../../lib/model/key-layout';
import { dump, gatewayFixture } from '../helpers/gateway';

const newGateway = gatewayFixture();
const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
// Not called by these tests; a public name, since a tenant's function may not be on loopback.
const HTTP = {
  functionId: 'hook',
  type: 'http',
  provider: { url: 'https://hooks.example.com/hook' },
};
const LOOPBACK = { ...HTTP, provider: { url: 'http://127.0.0.1:9/hook' } };

/** The Configuration API over node:http, for one test. */
async function serve(gateway: Gateway, options?: ConfigApiOptions) {
  const server = createServer(createConfigHandler(gateway, options));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await request(base + path, {
      method: method as 'GET',
      headers: { 'content-type': 'application/json', authorization: 'Bearer admin' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, json: () => JSON.parse(text) };
  };
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { call, close };
}

const ADMIN = {
  name: 'admin',
  hash: sha256('admin'),
  spaces: '*' as const,
  scopes: ['read', 'write'] as ('read' | 'write')[],
};

test('a tenant write stores writer "tenant", shown in get and list and kept through the store; a host update makes it the host\'s', async () => {
  const store = new MemoryStore();
  const { gateway } = await newGateway(store);
  const registered = await gateway.registerFunction(HTTP, { writer: 'tenant' });
  expect(registered.writer).toBe('tenant');
  expect(gateway.getFunction({ functionId: 'hook' }).writer).toBe('tenant');
  expect(gateway.listFunctions()[0].writer).toBe('tenant');
  expect(JSON.parse(Object.values(await dump(store))[0])).toMatchObject({ writer: 'tenant' });

  // Another instance reads the record from the store: the marker survives the round trip.
  const { gateway: other } = await newGateway(store);
  expect(other.getFunction({ functionId: 'hook' }).writer).toBe('tenant');

  const updated = await gateway.updateFunction({ ...HTTP, metadata: { team: 'a' } });
  expect(updated.writer).toBeUndefined();
  expect(gateway.getFunction({ functionId: 'hook' })).not.toHaveProperty('writer');
  await gateway.updateFunction(HTTP, { writer: 'tenant' });
  expect(gateway.getFunction({ functionId: 'hook' }).writer).toBe('tenant');

  await gateway.registerFunction({ ...HTTP, functionId: 'own' });
  expect(gateway.getFunction({ functionId: 'own' })).not.toHaveProperty('writer');
});

test('writer in a body is ignored (a record read back can be written back), and a bad writer option is refused, changing nothing', async () => {
  const store = new MemoryStore();
  const { gateway } = await newGateway(store);
  const hosts = await gateway.registerFunction({
    ...HTTP,
    functionId: 'read-back',
    writer: 'tenant',
  } as never);
  expect(hosts).not.toHaveProperty('writer');
  const tenants = await gateway.updateFunction({ ...hosts, writer: 'nobody' } as never, {
    writer: 'tenant',
  });
  expect(tenants.writer).toBe('tenant');
  const before = await dump(store);
  await expect(gateway.registerFunction(HTTP, { writer: 'host' } as never)).rejects.toMatchObject({
    code: 'VALIDATION_FAILED',
    message: /"writer" must be 'tenant'/,
  });
  await expect(gateway.registerFunction(HTTP, null as never)).rejects.toMatchObject({
    code: 'VALIDATION_FAILED',
  });
  expect(await dump(store)).toEqual(before);
});

test.each([
  ['with API keys', { apiKeys: [ADMIN] }, 'tenant'],
  ['with API keys and tenantWrites: false', { apiKeys: [ADMIN], tenantWrites: false }, undefined],
  ['without API keys', {}, undefined],
  ['without API keys and tenantWrites: true', { tenantWrites: true }, 'tenant'],
])('the Configuration API %s marks what it writes accordingly', async (_name, options, writer) => {
  const { gateway } = await newGateway();
  const api = await serve(gateway, options as ConfigApiOptions);
  try {
    const created = await api.call('POST', '/v1/spaces/default/functions', HTTP);
    expect(created.status).toBe(201);
    expect(created.json().writer).toBe(writer);
    expect(gateway.getFunction({ functionId: 'hook' }).writer).toBe(writer);
    await gateway.updateFunction(HTTP);
    const updated = await api.call('PUT', '/v1/spaces/default/functions/hook', HTTP);
    expect(updated.status).toBe(200);
    expect(updated.json().writer).toBe(writer);
    const got = (await api.call('GET', '/v1/spaces/default/functions/hook')).json();
    expect(got.writer).toBe(writer);
    const listed = (await api.call('GET', '/v1/spaces/default/functions')).json();
    expect(listed.functions[0].writer).toBe(writer);
    // A body cannot claim a writer: what it says is ignored (a record read back is written back).
    for (const claim of ['tenant', 'host', undefined]) {
      const claimed = await api.call('PUT', '/v1/spaces/default/functions/hook', {
        ...got,
        writer: claim,
      });
      expect(claimed.status).toBe(200);
      expect(claimed.json().writer).toBe(writer);
    }
  } finally {
    await api.close();
  }
});

test('"tenantWrites" must be a boolean', async () => {
  const { gateway } = await newGateway();
  expect(() => createConfigHandler(gateway, { tenantWrites: 'yes' as never })).toThrow(
    /"tenantWrites" must be a boolean/,
  );
});

test('registration checks URLs against the policy for its writer and space', () => {
  const layout = new KeyLayout('/test');
  const asked: [string, string | undefined][] = [];
  const strict = new OutboundPolicy({ allowLoopback: false });
  const ctx = {
    catalog: new Catalog(layout),
    layout,
    revision: 0,
    providerValidators: new Map(),
    outboundFor: (space: string, writer: 'tenant' | undefined) => {
      asked.push([space, writer]);
      return writer === 'tenant' ? strict : new OutboundPolicy();
    },
  };
  expect(planRegisterFunction(ctx, LOOPBACK, 'default').result).not.toHaveProperty('writer');
  expect(() => planRegisterFunction(ctx, LOOPBACK, 'acme', { writer: 'tenant' })).toThrow(
    /"provider.url" is refused/,
  );
  expect(() => planUpdateFunction(ctx, LOOPBACK, 'acme', { writer: 'tenant' })).toThrow(
    /"provider.url" is refused/,
  );
  expect(asked).toEqual([
    ['default', undefined],
    ['acme', 'tenant'],
    ['acme', 'tenant'],
  ]);
});
