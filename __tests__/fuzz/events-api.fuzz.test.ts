import fc from 'fast-check';
import { EventsApi, type EventsRequest, type Gateway } from '../../lib';
import { deliveryGateways } from '../helpers/delivery-gateway';
import { fuzzParameters, fuzzTimeout, ODD_VALUES } from './fuzz-settings';

/** Odd values a JSON body can carry. */
const JSON_ODD = ODD_VALUES.filter((v) => typeof v !== 'bigint');

const newGateway = deliveryGateways({ initialDelay: 1, maxDelay: 2, maxAttempts: 2 });

/** A gateway with async, sync and authorized routes whose functions all behave. */
async function configured(): Promise<Gateway> {
  const { gateway } = await newGateway({ queueSize: 1_000_000 });
  await gateway.registerFunction({ functionId: 'sink', handler: () => undefined });
  await gateway.registerFunction({
    functionId: 'echo',
    handler: (e) => ({ body: JSON.stringify(e) }),
  });
  await gateway.registerFunction({
    functionId: 'auth',
    handler: (input) => {
      const headers = (input as { request: { headers: Record<string, string> } }).request.headers;
      return headers.authorization === 'ok'
        ? { authorization: { principalId: 'p' } }
        : { error: { message: 'no' } };
    },
  });
  await gateway.createEventType({ name: 'user.created' });
  await gateway.createEventType({ name: 'guarded', authorizerId: 'auth' });
  await gateway.subscribe({ eventType: 'user.created', functionId: 'sink' });
  await gateway.subscribe({ eventType: 'guarded', functionId: 'sink' });
  await gateway.subscribe({
    eventType: 'http.request',
    functionId: 'sink',
    method: 'POST',
    path: '/hook/:id',
  });
  for (const [method, path] of [
    ['GET', '/users/:id'],
    ['GET', '/users/admin'],
    ['POST', '/files/*rest'],
    ['GET', '/café'],
  ]) {
    await gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'echo',
      method,
      path,
    });
  }
  await gateway.createCors({
    method: 'GET',
    path: '/users/:id',
    allowedOrigins: ['https://*.example.com', 'http://a.b'],
  });
  return gateway;
}

const segment = fc.oneof(
  fc.constantFrom(
    'users',
    'admin',
    'hook',
    'files',
    'café',
    '%61dmin',
    '%2F',
    '%00',
    '%E0%A4',
    '%',
    '..',
    '.',
    '',
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ maxLength: 6, unit: 'binary' }),
);
const path = fc.array(segment, { maxLength: 5 }).map((segments) => '/' + segments.join('/'));
const query = fc
  .array(
    fc.tuple(
      fc.constantFrom('a', '__proto__', 'constructor', 'toString', 'valueOf', ''),
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 4 },
  )
  .map((pairs) =>
    pairs.length
      ? '?' + pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
      : '',
  );

const cloudEvent = fc.record(
  {
    specversion: fc.oneof(fc.constant('1.0'), fc.constantFrom(...JSON_ODD)),
    id: fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom(...JSON_ODD)),
    source: fc.oneof(fc.constant('/src'), fc.constantFrom(...JSON_ODD)),
    type: fc.constantFrom(
      'user.created',
      'guarded',
      'eventgateway.function.invoked',
      'other',
      '',
      'x'.repeat(300),
    ),
    time: fc.constantFrom('2020-01-01T00:00:00Z', '2020-13-45T99:99:99Z', 'yesterday'),
    data: fc.jsonValue({ maxDepth: 4 }),
    data_base64: fc.constantFrom('aGk=', 'abcde', '==', 'a'),
    eventgatewayauthorization: fc.constant('{"principalId":"forged"}'),
    ext: fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.jsonValue()),
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  cloudEvent.map((e) => JSON.stringify(e)),
  fc.array(cloudEvent, { maxLength: 5 }).map((b) => JSON.stringify(b)),
  fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.nat({ max: 2000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.constant(''),
);

const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/cloudevents+json',
      'application/cloudevents-batch+json',
      'application/json',
      'text/plain',
      'application/octet-stream',
      'application/cloudevents+json; charset=utf-8',
      '',
      ';;;',
    ),
    'ce-specversion': fc.constantFrom('1.0', '0.3', ''),
    'ce-id': fc.string({ maxLength: 10 }),
    'ce-source': fc.constantFrom('/s', '%zz', ''),
    'ce-type': fc.constantFrom('user.created', 'guarded', 'eventgateway.event.received'),
    'ce-data': fc.string({ maxLength: 5 }),
    'ce-cloudeventsversion': fc.constantFrom('0.1', '9'),
    'ce-eventtype': fc.constantFrom('user.created', 'guarded'),
    'ce-x-__proto__': fc.string({ maxLength: 5 }),
    event: fc.constantFrom(
      'user.created',
      'guarded',
      'http.request',
      'eventgateway.function.invoked',
    ),
    origin: fc.oneof(
      fc.constantFrom('https://a.example.com', 'http://a.b', 'null', 'https://a@b.example.com'),
      fc.nat({ max: 5000 }).map((n) => 'https://' + 'a.'.repeat(n) + 'example.com'),
    ),
    'access-control-request-method': fc.constantFrom('GET', 'POST', 'get'),
    authorization: fc.constantFrom('ok', 'no'),
    'content-length': fc.constantFrom('0', '-1', 'abc', '99999999999'),
  },
  { requiredKeys: [] },
);

/** Anything at all. */
const hostile = fc.record({
  method: fc.oneof(
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
    fc.string({ maxLength: 8 }),
  ),
  url: fc.tuple(path, query).map(([p, q]) => p + q),
  headers,
  body,
});

const validEvent = fc.record({
  specversion: fc.constant('1.0'),
  id: fc.string({ minLength: 1, maxLength: 20 }),
  source: fc.constant('/src'),
  type: fc.constantFrom('user.created', 'guarded', 'other'),
  data: fc.jsonValue({ maxDepth: 4 }),
});

/** Requests that are valid, or one mutation away from it, so that every answer is reached. */
const plausible = fc.oneof(
  fc.record({
    method: fc.constant('POST'),
    url: fc.constantFrom('/', '/hook/1', '/users/1'),
    headers: fc.record(
      {
        'content-type': fc.constant('application/cloudevents+json'),
        authorization: fc.constantFrom('ok', 'no'),
      },
      { requiredKeys: ['content-type'] },
    ),
    body: validEvent.map((e) => JSON.stringify(e)),
  }),
  fc.record({
    method: fc.constant('POST'),
    url: fc.constant('/'),
    headers: fc.constant({ 'content-type': 'application/cloudevents-batch+json' }),
    body: fc.array(validEvent, { maxLength: 4 }).map((b) => JSON.stringify(b)),
  }),
  fc.record({
    method: fc.constantFrom('GET', 'POST'),
    url: fc
      .tuple(
        fc.constantFrom(
          '/users/1',
          '/users/admin',
          '/users/%61dmin',
          '/files/a/b',
          '/caf%C3%A9',
          '/hook/x',
          '/nothing',
        ),
        query,
      )
      .map(([p, q]) => p + q),
    headers: fc.record(
      {
        'content-type': fc.constantFrom('application/json', 'text/plain'),
        origin: fc.constantFrom('https://a.example.com', 'http://x.y'),
      },
      { requiredKeys: [] },
    ),
    body: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  }),
);

test.each([
  ['plausible requests (valid or one step away)', plausible, [200, 202, 400, 403]],
  ['hostile requests', hostile, [400]],
] as const)(
  'Events API, %s: every request gets an answer, never a 5xx for what the client sent, and the accounting holds',
  async (_name, requests, reached) => {
    const gateway = await configured();
    const api = new EventsApi(gateway, { maxBatchSize: 3, bodyLimit: 64 * 1024 });
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(requests, async (r) => {
        const input: EventsRequest = {
          method: r.method,
          url: r.url,
          headers: r.headers,
          parsedBody: Buffer.from(r.body),
        };
        const response = await api.handle(input);
        statuses.add(response.status);
        expect(response.status).toBeGreaterThanOrEqual(200);
        expect(response.status).toBeLessThan(500);
        if (response.status >= 400) {
          expect(JSON.parse(String(response.body)).errors[0].message).toEqual(expect.any(String));
        }
      }),
      fuzzParameters(300),
    );
    const report = await gateway.close();
    const m = gateway.metrics();
    expect(m.deliveriesAccepted).toBe(m.deliveriesSucceeded + m.deliveriesDeadLettered);
    expect(report.undelivered).toEqual([]);
    // The generator reaches the answers that matter, not only refusals.
    expect([...statuses]).toEqual(expect.arrayContaining([...reached]));
  },
  fuzzTimeout(),
);
