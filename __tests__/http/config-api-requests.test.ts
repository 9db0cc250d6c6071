// What the Configuration API takes from a request beyond its path: the media type of a write
// (a browser's cross-site form cannot send application/json without a preflight), HEAD as a read,
// and metadata filters it can honour.
import { createHash } from 'node:crypto';
import { request } from 'undici';
import { createGateway, MemoryStore, type ConfigApiOptions, type Gateway } from '../../lib';
import { dump } from '../helpers/gateway';
import { CONFIG_SERVERS, type ApiServer } from './servers';

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
/** The README's pattern: the API behind the app's own cookie session. */
const COOKIE_SESSION: ConfigApiOptions = {
  authorize: (req) => req.headers.cookie === 'session=admin',
};
const SESSION = { cookie: 'session=admin' };

describe.each(CONFIG_SERVERS)('Configuration API requests in %s', (_name, start) => {
  let store: MemoryStore;
  let gateway: Gateway;
  let server: ApiServer | undefined;

  const call = async (
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string,
  ) => {
    const res = await request(server!.url + path, { method: method as 'GET', headers, body });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  };

  beforeEach(async () => {
    store = new MemoryStore();
    gateway = createGateway(store, { resyncInterval: 0 });
    await gateway.ready();
    await gateway.createEventType({ space: 'shop', name: 'order.placed', metadata: { team: 'a' } });
    await gateway.createEventType({ space: 'shop', name: 'order.paid', metadata: { team: 'b' } });
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await gateway.close();
  });

  test('a write not sent as application/json (a cross-site form) is 415 and changes nothing', async () => {
    server = await start(gateway, COOKIE_SESSION);
    const before = await dump(store);
    const fn = JSON.stringify({
      functionId: 'evil',
      type: 'http',
      // A name, not loopback: a tenant's policy may refuse loopback destinations.
      provider: { url: 'https://billing.example.com/' },
    });
    const writes: [string, string, string | undefined][] = [
      // The three types a page on another site can post without a preflight.
      ['POST', '/v1/spaces/shop/functions', 'text/plain'],
      ['POST', '/v1/spaces/shop/functions', 'application/x-www-form-urlencoded'],
      ['POST', '/v1/spaces/shop/functions', 'multipart/form-data; boundary=x'],
      ['POST', '/v1/spaces/shop/functions', undefined],
      // Another JSON type names other semantics (a merge patch) than this API's.
      ['PUT', '/v1/spaces/shop/eventtypes/order.placed', 'application/merge-patch+json'],
      ['PUT', '/v1/spaces/shop/eventtypes/order.placed', 'text/plain;charset=UTF-8'],
      ['DELETE', '/v1/spaces/shop/eventtypes/order.placed', 'text/plain'],
    ];
    for (const [method, path, type] of writes) {
      const headers: Record<string, string> = { ...SESSION };
      if (type !== undefined) headers['content-type'] = type;
      const body = method === 'PUT' ? JSON.stringify({ metadata: { team: 'x' } }) : fn;
      const reply = await call(method, path, headers, body);
      expect([method, type, reply.status]).toEqual([method, type, 415]);
      expect(reply.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(reply.text).errors[0].message).toMatch(/application\/json/);
    }
    expect(await dump(store)).toEqual(before);
    // application/json with parameters is a write; a DELETE without a body needs no type.
    const created = await call(
      'POST',
      '/v1/spaces/shop/functions',
      { ...SESSION, 'content-type': 'Application/JSON; charset=utf-8' },
      fn,
    );
    expect(created.status).toBe(201);
    expect((await call('DELETE', '/v1/spaces/shop/functions/evil', SESSION)).status).toBe(204);
    // The session still decides first: without it, 403 whatever the type.
    const anonymous = await call(
      'POST',
      '/v1/spaces/shop/functions',
      { 'content-type': 'text/plain' },
      fn,
    );
    expect(anonymous.status).toBe(403);
  });

  test('HEAD is a read: allowed to a read-only key, answered as GET without a body', async () => {
    server = await start(gateway, {
      apiKeys: [
        { hash: sha256('reader'), spaces: ['shop'], scopes: ['read'] },
        { hash: sha256('writer'), spaces: ['shop'], scopes: ['write'] },
      ],
    });
    const reader = { 'x-api-key': 'reader' };
    for (const path of [
      '/v1/spaces/shop/eventtypes',
      '/v1/spaces/shop/eventtypes?metadata.team=a',
      '/v1/spaces/shop/eventtypes/order.placed',
      '/v1/spaces/shop/eventtypes/missing',
      '/v1/spaces',
      '/v1/status',
    ]) {
      const get = await call('GET', path, reader);
      const head = await call('HEAD', path, reader);
      expect([path, head.status]).toEqual([path, get.status]);
      expect(head.headers['content-type']).toBe(get.headers['content-type']);
      expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.text)));
      expect(head.text).toBe('');
    }
    expect((await call('HEAD', '/v1/spaces/shop/eventtypes', reader)).status).toBe(200);
    // A key without the read scope may not HEAD either.
    expect(
      (await call('HEAD', '/v1/spaces/shop/eventtypes', { 'x-api-key': 'writer' })).status,
    ).toBe(403);
  });

  test('a collection named like a property of every object is 404, not a 500', async () => {
    server = await start(gateway);
    for (const collection of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      for (const [method, path] of [
        ['GET', `/v1/spaces/shop/${collection}`],
        ['GET', `/v1/spaces/shop/${collection}/order.placed`],
        ['POST', `/v1/spaces/shop/${collection}`],
        ['DELETE', `/v1/spaces/shop/${collection}/order.placed`],
      ]) {
        const reply = await call(
          method,
          path,
          { 'content-type': 'application/json' },
          method === 'POST' ? '{}' : undefined,
        );
        expect([method, path, reply.status]).toEqual([method, path, 404]);
      }
    }
  });

  test('a metadata filter it cannot honour is 400, not a filter silently dropped', async () => {
    server = await start(gateway);
    const list = (query: string) => call('GET', `/v1/spaces/shop/eventtypes${query}`);
    const names = async (query: string) =>
      JSON.parse((await list(query)).text).eventTypes.map((e: { name: string }) => e.name);
    expect(await names('?metadata.team=a')).toEqual(['order.placed']);
    expect(await names('?metadata.team=a&other=1')).toEqual(['order.placed']);
    for (const query of [
      '?metadata.__proto__=x',
      '?metadata.constructor=x',
      '?metadata.toString=x',
      '?metadata.hasOwnProperty=x',
      '?metadata.=x',
      '?metadata.team=a&metadata.team=b',
    ]) {
      const reply = await list(query);
      expect([query, reply.status]).toEqual([query, 400]);
      expect(JSON.parse(reply.text).errors[0].message).toMatch(
        /^Event Type doesn't validate\. Validation error: .*metadata/,
      );
    }
  });
});
