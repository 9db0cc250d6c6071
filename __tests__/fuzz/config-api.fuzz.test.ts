// The Configuration API under a hostile tenant: sequences of requests made with space A's keys,
// over a real node:http server, never change space B or the store outside space A's keys, and
// change nothing at all without A's write key and a JSON body (a cross-site form sends none).
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'undici';
import { createConfigHandler, createGateway, MemoryStore, type Gateway } from '../../lib';
import { KeyLayout } from '../../lib/model/key-layout';
import { fuzzParameters, fuzzTimeout } from './fuzz-settings';

const A = 'space-a';
const B = 'space-b';
const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
const API_KEYS = [
  { name: 'a', hash: sha256('key-a'), spaces: [A], scopes: ['read', 'write'] as const },
  { name: 'a-read', hash: sha256('key-a-read'), spaces: [A], scopes: ['read'] as const },
  { name: 'a-emit', hash: sha256('key-a-emit'), spaces: [A], scopes: ['emit'] as const },
  { name: 'b', hash: sha256('key-b'), spaces: [B], scopes: ['read', 'write'] as const },
];
/** The credentials the tenant of space A holds (and mistakes of its own): never B's key. */
const CREDENTIALS: Record<string, string>[] = [
  { authorization: 'Bearer key-a' },
  { 'x-api-key': 'key-a' },
  { authorization: 'Bearer key-a-read' },
  { 'x-api-key': 'key-a-emit' },
  { authorization: 'Bearer key-a', 'x-api-key': 'key-b-guess' },
  { authorization: 'Basic a2V5LWE6' },
  {},
];
/** Whether a request may change space A: A's write key, and a JSON body or none. */
function mayWrite(r: {
  method: string;
  credentials: Record<string, string>;
  contentType?: string;
  body?: Body;
}): boolean {
  const { authorization, 'x-api-key': key } = r.credentials;
  const writer =
    authorization === 'Bearer key-a' || (authorization === undefined && key === 'key-a');
  const json = /^application\/json\s*(;|$)/i.test(r.contentType ?? '');
  return writer && (json || (r.method.toUpperCase() === 'DELETE' && !r.body?.text));
}

/** Every space both tenants' records live in, plus look-alikes of B and non-configuration keys. */
async function seededStore(): Promise<MemoryStore> {
  const store = new MemoryStore();
  const gateway = createGateway(store, { resyncInterval: 0 });
  await gateway.ready();
  for (const space of [A, B, 'space-b.x', 'space-bb']) {
    await gateway.createEventType({ space, name: 'order.placed', metadata: { team: 't' } });
    await gateway.registerFunction({
      space,
      functionId: 'billing',
      type: 'http',
      provider: { url: 'https://billing.example.com/' },
    });
    await gateway.subscribe({ space, eventType: 'order.placed', functionId: 'billing' });
    await gateway.createCors({ space, method: 'GET', path: '/test' });
  }
  await gateway.close();
  await store.put('/other-app/settings', '{"owner":"host"}');
  await store.put('/serverless-event-gateway/functions/space-b', 'not a record');
  await store.put('/serverless-event-gateway-x/functions/space-a/billing', '{}');
  return store;
}

/** Every key and value not under one of space A's record prefixes. */
async function outsideA(store: MemoryStore): Promise<Record<string, string>> {
  const layout = new KeyLayout();
  const { items } = await store.list('');
  return Object.fromEntries(
    items.filter((kv) => layout.parse(kv.key)?.space !== A).map((kv) => [kv.key, kv.value]),
  );
}

/** Space B as the gateway's cache serves it. */
function viewOfB(gateway: Gateway): string {
  return JSON.stringify([
    gateway.listEventTypes({ space: B }),
    gateway.listFunctions({ space: B }),
    gateway.listSubscriptions({ space: B }),
    gateway.listCors({ space: B }),
  ]);
}

const SUBSCRIPTION_ID = Buffer.from('async,order.placed,billing,%2F,POST').toString('base64url');
/** Path segments, raw: encoded slashes and dots, look-alikes, other spaces, unicode. */
const spaceSegment = fc.constantFrom(
  A,
  A,
  B,
  `${A}/../${B}`,
  `${A}/%2E%2E/${B}`,
  `${A}%2F..%2F${B}`,
  '%73pace-b',
  'SPACE-B',
  `${B}.`,
  `${B}%00`,
  'sp%D0%B0ce-b',
  '..',
  '%2E%2E',
  '',
  'space-b.x',
);
const collection = fc.constantFrom(
  'eventtypes',
  'functions',
  'subscriptions',
  'subscription',
  'cors',
  'Functions',
  '%66unctions',
  '__proto__',
);
const idSegment = fc.oneof(
  fc.constantFrom(
    'order.placed',
    'billing',
    SUBSCRIPTION_ID,
    'GET%2Ftest',
    `..%2F..%2F${B}%2Fbilling`,
    `../../${B}/functions/billing`,
    '..',
    '%2E%2E',
    'constructor',
    '__proto__',
    'x'.repeat(300),
  ),
  fc.string({ maxLength: 10 }).map(encodeURIComponent),
);
const path = fc
  .tuple(
    fc.constantFrom('/v1/spaces/', '/v1/spaces//', '/v1//spaces/', '//v1/spaces/', '/v1/./spaces/'),
    spaceSegment,
    collection,
    fc.option(idSegment, { nil: undefined }),
    fc.option(fc.constantFrom('/extra', '/..', '/%2F', '/'), { nil: undefined }),
  )
  .map(
    ([head, space, kind, id, tail]) => `${head}${space}/${kind}${id ? '/' + id : ''}${tail ?? ''}`,
  );
const query = fc.constantFrom(
  '',
  '?metadata.team=t',
  `?space=${B}`,
  '?metadata.__proto__=x',
  '?metadata.constructor=x&metadata.toString=y',
  `?metadata.team=t&metadata.team=u`,
  '?metadata.=x',
);

/** Field values a body can carry: the other space's names, prototype keys, odd JSON. */
const fieldValue = fc.oneof(
  fc.constantFrom(A, B, `${A}/../${B}`, `../${B}`, 'order.placed', 'billing', '__proto__', '/'),
  fc.constantFrom(null, 0, -1, true, [], {}, '', 'x'.repeat(2000)),
  fc.jsonValue({ maxDepth: 3 }),
);
const fields = fc.dictionary(
  fc.constantFrom(
    'space',
    'name',
    'functionId',
    'type',
    'provider',
    'eventType',
    'path',
    'method',
    'corsId',
    'subscriptionId',
    'metadata',
    'filter',
    'authorizerId',
    'allowedOrigins',
    'constructor',
  ),
  fieldValue,
  { maxKeys: 6 },
);
/** A body, printed short in counterexamples and failures (some are 60 KiB). */
class Body {
  constructor(readonly text: string) {}
  [fc.toStringMethod](): string {
    return this.toJSON();
  }
  toJSON(): string {
    const { text } = this;
    return text.length <= 200 ? text : `${text.slice(0, 200)}... (${text.length} characters)`;
  }
}

/** Bodies: plausible resources aimed at B, prototype keys, deep nesting, huge, not JSON. */
const body = fc
  .oneof(
    fc
      .record({ functionId: fc.constantFrom('billing', 'fn2'), space: fc.constant(B) })
      .map((f) =>
        JSON.stringify({ ...f, type: 'http', provider: { url: 'https://x.example.com/' } }),
      ),
    fc
      .record({ name: fc.constantFrom('order.placed', 'n2'), space: fc.constant(B) })
      .map((r) => JSON.stringify(r)),
    fc
      .tuple(fields, fc.constantFrom('__proto__', 'constructor', 'prototype'))
      .map(([f, key]) => `{"${key}":{"space":"${B}","admin":true},` + JSON.stringify(f).slice(1)),
    fields.map((f) => JSON.stringify(f)),
    fc.nat({ max: 5_000 }).map((n) => '{"metadata":'.repeat(n) + '{}' + '}'.repeat(n)),
    fc.nat({ max: 5_000 }).map((n) => `{"filter":{"data":${'['.repeat(n)}${']'.repeat(n)}}}`),
    fc.constant(JSON.stringify({ name: 'big', metadata: { pad: 'x'.repeat(70_000) } })),
    fc.string({ maxLength: 50 }),
    fc.constant(''),
  )
  .map((text) => new Body(text));
const contentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/merge-patch+json',
  '',
  undefined,
);
const extraHeaders = fc.constantFrom<Record<string, string>>(
  {},
  { 'x-forwarded-host': 'evil.example' },
  { origin: 'https://evil.example', cookie: 'session=admin' },
  { 'x-space': B },
);

/** Anything at all, within what an HTTP client can send. */
const hostile = fc.record({
  method: fc.oneof(
    fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
    fc.stringMatching(/^[A-Za-z]{1,7}$/),
  ),
  url: fc.tuple(path, query).map(([p, q]) => p + q),
  credentials: fc.constantFrom(...CREDENTIALS),
  contentType,
  extra: extraHeaders,
  body: fc.option(body, { nil: undefined }),
});

/** Each kind's IDs (seeded, then new) and a valid body for it. */
const RESOURCES: Record<string, { ids: string[]; body: (id: string) => object }> = {
  eventtypes: { ids: ['order.placed', 'n2'], body: (name) => ({ name, metadata: { team: 'u' } }) },
  functions: {
    ids: ['billing', 'fn2'],
    body: (functionId) => ({ functionId, type: 'http', provider: { url: 'https://x.example/' } }),
  },
  subscriptions: {
    ids: [SUBSCRIPTION_ID],
    body: () => ({ type: 'async', eventType: 'order.placed', functionId: 'billing', path: '/p' }),
  },
  cors: {
    ids: ['GET%2Ftest', 'POST%2Fx'],
    body: () => ({ method: 'POST', path: '/x', allowedOrigins: ['https://a.example'] }),
  },
};

/** Valid requests in A, or one step away (B's name in the path or body, another key or type). */
const plausible = fc
  .record({
    kind: fc.constantFrom(...Object.keys(RESOURCES)),
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE'),
    item: fc.nat(),
    space: fc.oneof({ arbitrary: fc.constant(A), weight: 6 }, spaceSegment),
    credentials: fc.oneof(
      { arbitrary: fc.constant(CREDENTIALS[0]), weight: 6 },
      fc.constantFrom(...CREDENTIALS),
    ),
    contentType: fc.oneof({ arbitrary: fc.constant('application/json'), weight: 2 }, contentType),
    extra: extraHeaders,
    fields: fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, fields),
  })
  .map((r) => {
    const { ids, body } = RESOURCES[r.kind];
    const id = ids[r.item % ids.length];
    const onItem =
      r.method === 'PUT' || r.method === 'DELETE' || (r.method !== 'POST' && r.item % 2);
    return {
      method: r.method,
      url: `/v1/spaces/${r.space}/${r.kind}${onItem ? '/' + id : ''}`,
      credentials: r.credentials,
      contentType: r.contentType,
      extra: r.extra,
      body:
        r.method === 'DELETE' ? undefined : new Body(JSON.stringify({ ...body(id), ...r.fields })),
    };
  });

const request = fc.oneof(plausible, hostile);

test(
  "Configuration API, space A's keys: B, the store outside A, and (without a write key and JSON) everything stay as they were",
  async () => {
    const seeded = await outsideA(await seededStore());
    let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
    const server = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const statuses = new Set<number>();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 8 }), async (requests) => {
          const store = await seededStore();
          const gateway = createGateway(store, { resyncInterval: 0 });
          const errors: Error[] = [];
          gateway.on('gateway.error', (error) => void errors.push(error));
          await gateway.ready();
          const before = viewOfB(gateway);
          handler = createConfigHandler(gateway, { apiKeys: API_KEYS, bodyLimit: 64 * 1024 });
          try {
            for (const r of requests) {
              const headers: Record<string, string> = { ...r.extra, ...r.credentials };
              if (r.contentType !== undefined) headers['content-type'] = r.contentType;
              const revision = store.revision;
              const res = await client.request({
                method: r.method,
                path: r.url,
                headers,
                body: r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body?.text,
              });
              await res.body.text();
              statuses.add(res.statusCode);
              // The request, bodies cut short, names each failure.
              const seen = JSON.stringify(r);
              expect([seen, res.statusCode < 500]).toEqual([seen, true]);
              if (!mayWrite(r)) expect([seen, store.revision]).toEqual([seen, revision]);
              expect([seen, await outsideA(store)]).toEqual([seen, seeded]);
            }
            // The host still answers, the cache still agrees, and nothing failed inside.
            const status = await client.request({ method: 'GET', path: '/v1/status' });
            await status.body.text();
            expect(status.statusCode).toBe(200);
            expect(viewOfB(gateway)).toBe(before);
            expect(errors).toEqual([]);
          } finally {
            await gateway.close();
          }
        }),
        fuzzParameters(40),
      );
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    // The generator reaches writes that succeed, and each kind of refusal.
    expect([...statuses]).toEqual(expect.arrayContaining([200, 201, 204, 400, 401, 403, 404, 415]));
  },
  fuzzTimeout(),
);
