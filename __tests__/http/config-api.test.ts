import { createHash } from 'node:crypto';
import { request } from 'undici';
import { createGateway, MemoryStore, type ConfigApiOptions, type Gateway } from '../../lib';
import { CONFIG_SERVERS, type ApiServer } from './servers';

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');

describe.each(CONFIG_SERVERS)('Configuration API in %s', (name, start) => {
  let gateway: Gateway;
  let server: ApiServer;
  const parsed = name.includes('after');

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await request(server.url + path, {
      method: method as 'GET',
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
  };
  const errorOf = async (reply: Promise<{ json(): { errors: { message: string }[] } }>) =>
    (await reply).json().errors[0].message;

  async function serve(options?: ConfigApiOptions) {
    await server?.close();
    server = await start(gateway, { bodyLimit: 2048, ...options });
  }

  beforeEach(async () => {
    gateway = createGateway(new MemoryStore(), { resyncInterval: 0 });
    await gateway.ready();
    await serve();
  });
  afterEach(async () => {
    await server.close();
    await gateway.close();
  });

  test('event types: create, get, list with metadata filters, update, delete, and 0.9 errors', async () => {
    const created = await call('POST', '/v1/spaces/default/eventtypes', {
      name: 'user.created',
      metadata: { team: 'a' },
    });
    expect(created.status).toBe(201);
    expect(created.json()).toMatchObject({ space: 'default', name: 'user.created' });
    await call('POST', '/v1/spaces/default/eventtypes', {
      name: 'user.deleted',
      metadata: { team: 'b' },
    });
    expect((await call('GET', '/v1/spaces/default/eventtypes/user.created')).json().name).toBe(
      'user.created',
    );
    const all = (await call('GET', '/v1/spaces/default/eventtypes')).json();
    expect(all.eventTypes.map((e: { name: string }) => e.name)).toEqual([
      'user.created',
      'user.deleted',
    ]);
    const filtered = (await call('GET', '/v1/spaces/default/eventtypes?metadata.team=b')).json();
    expect(filtered).toEqual({ eventTypes: [expect.objectContaining({ name: 'user.deleted' })] });
    expect((await call('GET', '/v1/spaces/default/eventtypes?metadata.team=c')).json()).toEqual({
      eventTypes: [],
    });
    const updated = await call('PUT', '/v1/spaces/default/eventtypes/user.created', {
      metadata: { team: 'c' },
    });
    expect(updated.status).toBe(200);
    expect(updated.json().metadata).toEqual({ team: 'c' });
    const again = call('POST', '/v1/spaces/default/eventtypes', { name: 'user.created' });
    expect((await again).status).toBe(409);
    expect(
      await errorOf(call('POST', '/v1/spaces/default/eventtypes', { name: 'user.created' })),
    ).toBe('Event Type "user.created" already exists.');
    expect((await call('DELETE', '/v1/spaces/default/eventtypes/user.created')).status).toBe(204);
    const missing = await call('GET', '/v1/spaces/default/eventtypes/user.created');
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({
      errors: [{ message: 'Event Type "user.created" not found.' }],
    });
    const invalid = await call('POST', '/v1/spaces/default/eventtypes', { name: 'bad name!' });
    expect(invalid.status).toBe(400);
    expect(invalid.json().errors[0].message).toMatch(
      /^Event Type doesn't validate\. Validation error: /,
    );
  });

  test('functions, subscriptions and CORS: the whole cycle with 0.9 messages, secrets never sent', async () => {
    await call('POST', '/v1/spaces/shop/eventtypes', { name: 'order.placed' });
    const fn = await call('POST', '/v1/spaces/shop/functions', {
      functionId: 'billing',
      type: 'http',
      provider: { url: 'http://127.0.0.1:9/' },
    });
    expect(fn.status).toBe(201);
    expect(
      await errorOf(
        call('POST', '/v1/spaces/shop/functions', {
          functionId: 'billing',
          type: 'http',
          provider: { url: 'http://127.0.0.1:9/' },
        }),
      ),
    ).toBe('Function "billing" already registered.');
    const lambda = await call('POST', '/v1/spaces/shop/functions', {
      functionId: 'lambda',
      type: 'awslambda',
      provider: {
        arn: 'arn:aws:lambda:us-east-1:123456789012:function:f',
        region: 'us-east-1',
        awsAccessKeyId: 'AKIA',
        awsSecretAccessKey: 'hush',
      },
    });
    expect(lambda.text).not.toContain('hush');
    expect((await call('GET', '/v1/spaces/shop/functions')).text).not.toContain('hush');
    const sub = await call('POST', '/v1/spaces/shop/subscriptions', {
      type: 'async',
      eventType: 'order.placed',
      functionId: 'billing',
      path: '/',
    });
    expect(sub.status).toBe(201);
    const { subscriptionId } = sub.json();
    expect(subscriptionId).toBe(
      Buffer.from('async,order.placed,billing,%2F,POST').toString('base64url'),
    );
    // 0.9's spec spells one subscription `/subscription/:id`; its server `/subscriptions/:id`.
    for (const path of ['subscriptions', 'subscription']) {
      expect((await call('GET', `/v1/spaces/shop/${path}/${subscriptionId}`)).status).toBe(200);
    }
    expect(
      await errorOf(call('PUT', `/v1/spaces/shop/subscriptions/${subscriptionId}`, { path: '/x' })),
    ).toBe("Invalid update. 'path' of existing subscription cannot be updated.");
    expect(
      (
        await call('PUT', `/v1/spaces/shop/subscriptions/${subscriptionId}`, {
          metadata: { v: '2' },
        })
      ).json().metadata,
    ).toEqual({ v: '2' });
    expect(await errorOf(call('DELETE', '/v1/spaces/shop/functions/billing'))).toBe(
      "Function cannot be deleted because it's subscribed to a least one event.",
    );
    expect(await errorOf(call('DELETE', '/v1/spaces/shop/eventtypes/order.placed'))).toBe(
      'Event type cannot be deleted because there are subscriptions using it.',
    );
    expect((await call('DELETE', `/v1/spaces/shop/subscriptions/${subscriptionId}`)).status).toBe(
      204,
    );
    expect(await errorOf(call('GET', `/v1/spaces/shop/subscriptions/${subscriptionId}`))).toBe(
      `Subscription "${subscriptionId}" not found.`,
    );
    expect((await call('DELETE', '/v1/spaces/shop/functions/billing')).status).toBe(204);
    expect(await errorOf(call('GET', '/v1/spaces/shop/functions/billing'))).toBe(
      'Function "billing" not found.',
    );
    const cors = await call('POST', '/v1/spaces/shop/cors', { method: 'GET', path: '/test' });
    expect(cors.status).toBe(201);
    expect(cors.json().corsId).toBe('GET%2Ftest');
    expect((await call('GET', '/v1/spaces/shop/cors/GET%2Ftest')).json().allowedOrigins).toEqual([
      '*',
    ]);
    expect(
      (
        await call('PUT', '/v1/spaces/shop/cors/GET%2Ftest', {
          allowedOrigins: ['https://a.example'],
        })
      ).json().allowedOrigins,
    ).toEqual(['https://a.example']);
    expect((await call('GET', '/v1/spaces/shop/cors')).json().cors).toHaveLength(1);
    expect((await call('DELETE', '/v1/spaces/shop/cors/GET%2Ftest')).status).toBe(204);
    expect(await errorOf(call('GET', '/v1/spaces/shop/cors/GET%2Ftest'))).toBe(
      'CORS configuration "GET%2Ftest" not found.',
    );
  });

  test('subscriptions carry their filter: stored, listed, part of the ID, and routed on', async () => {
    const delivered: string[] = [];
    await gateway.registerFunction({
      functionId: 'big-orders',
      handler: (event) => void delivered.push((event as { id: string }).id),
    });
    await call('POST', '/v1/spaces/default/eventtypes', { name: 'order.placed' });
    const filter = { data: { amount: [{ numeric: ['>=', 100] }] } };
    const created = await call('POST', '/v1/spaces/default/subscriptions', {
      type: 'async',
      eventType: 'order.placed',
      functionId: 'big-orders',
      filter,
    });
    expect(created.status).toBe(201);
    const { subscriptionId } = created.json();
    // 0.9's ID of the same subscription without a filter, then the filter's hash.
    expect(Buffer.from(subscriptionId, 'base64url').toString()).toMatch(
      /^async,order\.placed,big-orders,%2F,POST,[0-9a-f]{16}$/,
    );
    expect((await call('GET', '/v1/spaces/default/subscriptions')).json().subscriptions).toEqual([
      expect.objectContaining({ subscriptionId, filter }),
    ]);
    const invalid = await call('POST', '/v1/spaces/default/subscriptions', {
      type: 'async',
      eventType: 'order.placed',
      functionId: 'big-orders',
      filter: { data: { amount: [{ numeric: ['>>', 1] }] } },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json().errors[0].message).toContain('data.amount');
    for (const [id, amount] of [
      ['small', 5],
      ['big', 500],
    ] as const) {
      await gateway.emit({
        specversion: '1.0',
        id,
        source: '/t',
        type: 'order.placed',
        data: { amount },
      });
    }
    while (gateway.metrics().deliveriesPending > 0) await new Promise((r) => setTimeout(r, 2));
    expect(delivered).toEqual(['big']);
  });

  test('spaces, status, unknown paths and methods', async () => {
    await call('POST', '/v1/spaces/alpha/eventtypes', { name: 'a' });
    await call('POST', '/v1/spaces/beta/eventtypes', { name: 'b' });
    expect((await call('GET', '/v1/spaces')).json()).toEqual({ spaces: ['alpha', 'beta'] });
    const status = await call('GET', '/v1/status');
    expect(status.status).toBe(200);
    expect((await call('GET', '/v1/nothing')).status).toBe(404);
    expect((await call('GET', '/v2/spaces')).status).toBe(404);
    expect((await call('PATCH', '/v1/spaces/alpha/eventtypes/a')).status).toBe(405);
    expect((await call('GET', '/v1/metrics')).status).toBe(404);
    await gateway.close();
    const closed = await call('GET', '/v1/status');
    expect(closed.status).toBe(503);
    expect(closed.json().errors[0].message).toMatch(/^Not ready: /);
  });

  test('bad JSON and non-object bodies are 400, oversized bodies 413, and nothing is written', async () => {
    const bad = await call('POST', '/v1/spaces/default/eventtypes', '{"name": ');
    expect(bad.status).toBe(400);
    if (!parsed) {
      expect(bad.json()).toEqual({
        errors: [
          { message: "Event Type doesn't validate. Validation error: the body is not valid JSON." },
        ],
      });
    }
    const list = await call('POST', '/v1/spaces/default/functions', '[1,2]');
    expect(list.status).toBe(400);
    const big = await call('POST', '/v1/spaces/default/eventtypes', {
      name: 'big',
      metadata: { pad: 'x'.repeat(4000) },
    });
    expect([413, 400]).toContain(big.status);
    if (!parsed) expect(big.status).toBe(413);
    expect(gateway.listEventTypes()).toEqual([]);
    expect(gateway.listFunctions()).toEqual([]);
  });

  test('API keys: 401 without or with a wrong key, 403 outside its spaces or scopes, and nothing changes', async () => {
    const readerKey: {
      name: string;
      hash: string;
      spaces: string[];
      scopes: ('read' | 'write')[];
    } = {
      name: 'reader',
      hash: sha256('read-key'),
      spaces: ['default'],
      scopes: ['read'],
    };
    await serve({
      apiKeys: [
        readerKey,
        { name: 'admin', hash: sha256('admin-key'), spaces: '*', scopes: ['read', 'write'] },
      ],
    });
    // Changing the caller's objects afterwards grants nothing.
    readerKey.scopes.push('write');
    readerKey.spaces.push('other');
    const body = { name: 'user.created' };
    const none = await call('POST', '/v1/spaces/default/eventtypes', body);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const wrong = await call('POST', '/v1/spaces/default/eventtypes', body, {
      authorization: 'Bearer nope',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('nope');
    const readerWrites = await call('POST', '/v1/spaces/default/eventtypes', body, {
      'x-api-key': 'read-key',
    });
    expect(readerWrites.status).toBe(403);
    expect(readerWrites.text).not.toContain('read-key');
    expect(gateway.listEventTypes()).toEqual([]);
    const admin = { authorization: 'Bearer admin-key' };
    expect((await call('POST', '/v1/spaces/default/eventtypes', body, admin)).status).toBe(201);
    expect((await call('POST', '/v1/spaces/other/eventtypes', body, admin)).status).toBe(201);
    const reader = { 'x-api-key': 'read-key' };
    expect((await call('GET', '/v1/spaces/default/eventtypes', undefined, reader)).status).toBe(
      200,
    );
    expect((await call('GET', '/v1/spaces/other/eventtypes', undefined, reader)).status).toBe(403);
    // The spaces a key may read, only.
    expect((await call('GET', '/v1/spaces', undefined, reader)).json()).toEqual({
      spaces: ['default'],
    });
    expect((await call('GET', '/v1/spaces', undefined, admin)).json()).toEqual({
      spaces: ['default', 'other'],
    });
    // Health checks need no key.
    expect((await call('GET', '/v1/status')).status).toBe(200);
  });

  test('the authorize hook refuses with 403; a hook that throws refuses and is reported', async () => {
    const errors: Error[] = [];
    gateway.on('gateway.error', (error) => void errors.push(error));
    await serve({
      authorize: (req, { scope }) => {
        if (req.headers['x-boom']) throw new Error('hook failed');
        return scope === 'read' || req.headers['x-admin'] === 'yes';
      },
    });
    expect((await call('POST', '/v1/spaces/default/eventtypes', { name: 'a' })).status).toBe(403);
    expect(
      (await call('GET', '/v1/spaces/default/eventtypes', undefined, { 'x-boom': '1' })).status,
    ).toBe(403);
    expect(errors.map((e) => e.message)).toEqual(['The authorize hook threw: hook failed']);
    expect(
      (await call('POST', '/v1/spaces/default/eventtypes', { name: 'a' }, { 'x-admin': 'yes' }))
        .status,
    ).toBe(201);
  });
});
