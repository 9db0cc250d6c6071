import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createEventsHandler,
  EventsApi,
  type CloudEvent,
  type EventsRequest,
  type Gateway,
} from '../../lib';
import { deliveryGateways } from '../helpers/delivery-gateway';
import { cloudEvent } from '../helpers/events';

const newGateway = deliveryGateways({ initialDelay: 1, maxDelay: 2, maxAttempts: 1 });

function req(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): EventsRequest {
  return {
    method: init.method ?? 'POST',
    url,
    headers: Object.fromEntries(
      Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    ),
    parsedBody: init.body === undefined ? undefined : Buffer.from(init.body),
  };
}

async function setup() {
  const { gateway, deadLetters } = await newGateway();
  const received: CloudEvent[] = [];
  await gateway.registerFunction({
    functionId: 'sink',
    handler: (e) => void received.push(e as CloudEvent),
  });
  return { gateway, deadLetters, received, api: new EventsApi(gateway) };
}

async function listen(gateway: Gateway) {
  const server = createServer(createEventsHandler(gateway));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const STRUCTURED = { 'content-type': 'application/cloudevents+json' };

describe('forgery', () => {
  test('eventgateway.* events are refused on every way in, and reach no subscriber', async () => {
    const { gateway, api, received } = await setup();
    await gateway.subscribe({ eventType: 'eventgateway.function.invoked', functionId: 'sink' });
    const forged = cloudEvent('eventgateway.function.invoked');
    const answers = await Promise.all([
      api.handle(req('/', { headers: STRUCTURED, body: JSON.stringify(forged) })),
      api.handle(
        req('/', {
          headers: { 'content-type': 'application/cloudevents-batch+json' },
          body: JSON.stringify([forged]),
        }),
      ),
      api.handle(
        req('/', {
          headers: {
            'ce-specversion': '1.0',
            'ce-id': '1',
            'ce-source': '/x',
            'ce-type': forged.type,
          },
          body: '{}',
        }),
      ),
      api.handle(req('/', { headers: { event: forged.type }, body: '{}' })),
    ]);
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400]);
    await expect(gateway.emit(forged)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(received).toEqual([]);
  });

  test("a client's own eventgatewayauthorization is stripped; an authorizer's is attached", async () => {
    const { gateway, api, received } = await setup();
    await gateway.createEventType({ name: 'open' });
    await gateway.subscribe({ eventType: 'open', functionId: 'sink' });
    await api.handle(
      req('/', {
        headers: STRUCTURED,
        body: JSON.stringify(
          cloudEvent('open', {}, { eventgatewayauthorization: '{"principalId":"admin"}' }),
        ),
      }),
    );
    await gateway.registerFunction({
      functionId: 'auth',
      handler: () => ({ authorization: { principalId: 'ada' } }),
    });
    await gateway.createEventType({ name: 'guarded', authorizerId: 'auth' });
    await gateway.subscribe({ eventType: 'guarded', functionId: 'sink' });
    await api.handle(
      req('/', {
        headers: STRUCTURED,
        body: JSON.stringify(
          cloudEvent('guarded', {}, { eventgatewayauthorization: '{"principalId":"admin"}' }),
        ),
      }),
    );
    await gateway.close();
    expect(received.map((e) => e.eventgatewayauthorization)).toEqual([
      undefined,
      '{"principalId":"ada"}',
    ]);
  });

  test('the function.invoked event of an authorizer call hides credentials', async () => {
    const { gateway, api } = await setup();
    await gateway.registerFunction({
      functionId: 'auth',
      handler: () => ({ authorization: { ok: true } }),
    });
    await gateway.createEventType({ name: 'guarded', authorizerId: 'auth' });
    const shown: unknown[] = [];
    gateway.on('function.invoked', ({ event }) => shown.push(event));
    await api.handle(
      req('/', {
        headers: {
          ...STRUCTURED,
          authorization: 'Bearer s3cret',
          cookie: 'sid=s3cret',
          'x-trace': 't',
        },
        body: JSON.stringify(cloudEvent('guarded')),
      }),
    );
    expect(shown).toEqual([
      expect.objectContaining({
        request: expect.objectContaining({
          headers: expect.objectContaining({
            authorization: '[redacted]',
            cookie: '[redacted]',
            'x-trace': 't',
          }),
        }),
      }),
    ]);
    expect(JSON.stringify(shown)).not.toContain('s3cret');
  });

  test('an authorizer that fails answers 500 without its details', async () => {
    const { gateway, api } = await setup();
    await gateway.registerFunction({
      functionId: 'auth',
      handler: () => {
        throw new Error('db password is hunter2');
      },
    });
    await gateway.createEventType({ name: 'guarded', authorizerId: 'auth' });
    const answer = await api.handle(
      req('/', { headers: STRUCTURED, body: JSON.stringify(cloudEvent('guarded')) }),
    );
    expect(answer.status).toBe(500);
    expect(String(answer.body)).not.toContain('hunter2');
  });
});

test("a host's `space` function that throws is a 500 without details, reported on gateway.error", async () => {
  const { gateway } = await setup();
  const errors: string[] = [];
  gateway.on('gateway.error', (error) => errors.push(error.message));
  const api = new EventsApi(gateway, {
    space: () => {
      throw Object.create(null);
    },
  });
  const answer = await api.handle(req('/', { method: 'GET' }));
  expect(answer.status).toBe(500);
  expect(JSON.parse(String(answer.body))).toEqual({
    errors: [{ message: 'Internal error. Please check logs.' }],
  });
  expect(errors).toEqual(['The Events API failed a request: [object Object]']);
});

describe('denial of service by input', () => {
  test('query parameters named like Object.prototype members are plain parameters', async () => {
    const { gateway, api } = await setup();
    await gateway.registerFunction({
      functionId: 'echo',
      handler: (e) => ({ body: JSON.stringify((e as { data: { query: unknown } }).data.query) }),
    });
    await gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'echo',
      method: 'GET',
      path: '/q',
    });
    const answer = await api.handle(
      req('/q?constructor=1&toString=2&valueOf=3&__proto__=4&constructor=5', { method: 'GET' }),
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(String(answer.body))).toEqual({
      constructor: ['1', '5'],
      toString: ['2'],
      valueOf: ['3'],
      ['__proto__']: ['4'],
    });
  });

  test('batches are bounded, and authorized once per event type', async () => {
    const { gateway, received } = await setup();
    const api = new EventsApi(gateway, { maxBatchSize: 50 });
    let calls = 0;
    await gateway.registerFunction({
      functionId: 'auth',
      handler: () => (calls++, { authorization: {} }),
    });
    await gateway.createEventType({ name: 'guarded', authorizerId: 'auth' });
    await gateway.subscribe({ eventType: 'guarded', functionId: 'sink' });
    const batch = (n: number) =>
      req('/', {
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify(Array.from({ length: n }, () => cloudEvent('guarded'))),
      });
    const tooLong = await api.handle(batch(51));
    expect(tooLong.status).toBe(400);
    // Refused on its length alone, before any item is validated or copied.
    const invalidTail = await api.handle(
      req('/', {
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify([...Array.from({ length: 50 }, () => cloudEvent('guarded')), {}]),
      }),
    );
    expect(JSON.parse(String(invalidTail.body)).errors[0].message).toBe(
      'A batch may hold at most 50 events (got 51).',
    );
    expect((await api.handle(batch(50))).status).toBe(202);
    expect(calls).toBe(1);
    await gateway.close();
    expect(received).toHaveLength(50);
  });

  test('deeply nested JSON is refused at intake (400), not accepted and failed later', async () => {
    const { gateway, api, deadLetters } = await setup();
    await gateway.createEventType({ name: 'deep' });
    await gateway.subscribe({ eventType: 'deep', functionId: 'sink' });
    const data = '['.repeat(100_000) + ']'.repeat(100_000);
    const body = `{"specversion":"1.0","id":"1","source":"/s","type":"deep","data":${data}}`;
    const answer = await api.handle(req('/', { headers: STRUCTURED, body }));
    expect(answer.status).toBe(400);
    expect(JSON.parse(String(answer.body)).errors[0].message).toMatch(
      /nests deeper than 64 levels/,
    );
    expect(deadLetters).toEqual([]);
  });

  test('CORS: "*" with credentials is refused; origins are matched without backtracking; long origins are not allowed', async () => {
    const { gateway, api } = await setup();
    await expect(
      gateway.createCors({
        method: 'GET',
        path: '/c',
        allowedOrigins: ['*'],
        allowCredentials: true,
      }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/cannot be true with "\*"/),
    });
    await expect(
      gateway.createCors({ method: 'GET', path: '/c', allowedHeaders: ['X-Ok', 'Bad\r\nHeader'] }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/allowedHeaders\[1\]" must be an HTTP token/),
    });
    await gateway.createCors({
      method: 'GET',
      path: '/c',
      allowedOrigins: ['https://*.*.*.example.com'],
    });
    const preflight = (origin: string) =>
      api.handle(
        req('/c', {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'GET' },
        }),
      );
    expect((await preflight('https://a.b.c.example.com')).status).toBe(204);
    expect((await preflight('https://a.b.example.com')).status).toBe(403);
    // `*` stands for part of a host name: never a path, a userinfo or a port.
    expect((await preflight('https://a.b.c@evil.example.com')).status).toBe(403);
    expect((await preflight('https://a/b.c.d.example.com')).status).toBe(403);
    // The inputs that took seconds with a regular expression per request.
    expect((await preflight('https://' + 'a.'.repeat(800) + 'x')).status).toBe(403);
    expect((await preflight('https://' + 'a.'.repeat(100_000) + 'example.com')).status).toBe(403);
  });
});

describe('canonical paths and honest validation', () => {
  test('requests route on the decoded path; encoded slashes and NUL are refused; /café can match', async () => {
    const { gateway, api } = await setup();
    const answer = (name: string) => () => ({ body: name });
    await gateway.registerFunction({ functionId: 'admin', handler: answer('admin') });
    await gateway.registerFunction({
      functionId: 'byid',
      handler: (e) => ({
        body: `id=${(e as { data: { params: { id: string } } }).data.params.id}`,
      }),
    });
    await gateway.registerFunction({ functionId: 'cafe', handler: answer('café') });
    for (const [functionId, path] of [
      ['admin', '/users/admin'],
      ['byid', '/users/:id'],
      ['cafe', '/café'],
    ]) {
      await gateway.subscribe({
        type: 'sync',
        eventType: 'http.request',
        functionId,
        method: 'GET',
        path,
      });
    }
    const get = async (path: string) => {
      const a = await api.handle(req(path, { method: 'GET' }));
      return [a.status, String(a.body)];
    };
    expect(await get('/users/%61dmin')).toEqual([200, 'admin']);
    expect(await get('/users/a%20b')).toEqual([200, 'id=a b']);
    expect((await get('/users/a%2Fb'))[0]).toBe(400);
    expect((await get('/users/a%00b'))[0]).toBe(400);
    expect((await get('/users/%E0%A4%A'))[0]).toBe(400);
    expect(await get('/caf%C3%A9')).toEqual([200, 'café']);
    await expect(
      gateway.subscribe({
        type: 'sync',
        eventType: 'http.request',
        functionId: 'admin',
        method: 'GET',
        path: '/a\u0001b',
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  test('framing and hop-by-hop headers from a sync function are dropped; clients read the answer', async () => {
    const { gateway } = await setup();
    await gateway.registerFunction({
      functionId: 'framing',
      handler: () => ({
        headers: {
          'transfer-encoding': 'chunked',
          'content-length': '9999',
          connection: 'close',
          'x-kept': 'yes',
        },
        body: 'hello',
      }),
    });
    await gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'framing',
      method: 'GET',
      path: '/f',
    });
    const { url, server } = await listen(gateway);
    try {
      const res = await fetch(`${url}/f`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hello');
      expect(res.headers.get('x-kept')).toBe('yes');
      expect(res.headers.get('content-length')).toBe('5');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test.each([
    [
      'an impossible time',
      { time: '2020-13-45T99:99:99Z' },
      /"time" must be an RFC 3339 timestamp/,
    ],
    [
      'invalid base64',
      { data: undefined, data_base64: 'abcde' },
      /"data_base64" must be a base64 string/,
    ],
    ['a 100,000-character id', { id: 'x'.repeat(100_000) }, /"id" must be at most 256 characters/],
    [
      'a 100,000-character type',
      { type: 'x'.repeat(100_000) },
      /"type" must be at most 256 characters/,
    ],
  ])('%s is refused', async (_name, patch, message) => {
    const { gateway } = await setup();
    await expect(gateway.emit({ ...cloudEvent('t.t'), ...patch })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(message),
    });
  });

  test('CloudEvents 0.1 extensions cannot overwrite attributes; a binary ce-data header is refused', async () => {
    const { gateway, api } = await setup();
    const v01 = {
      cloudEventsVersion: '0.1',
      eventID: '1',
      source: '/s',
      eventType: 'a.b',
      data: { ok: 1 },
    };
    for (const name of ['type', 'id', 'source', 'data', 'ID']) {
      await expect(gateway.emit({ ...v01, extensions: { [name]: 'x' } })).rejects.toMatchObject({
        message: expect.stringMatching(/would overwrite the event's/),
      });
    }
    const binary = await api.handle(
      req('/', {
        headers: {
          'ce-specversion': '1.0',
          'ce-id': '1',
          'ce-source': '/s',
          'ce-type': 'a.b',
          'ce-data': 'forged',
        },
        body: '{"real":true}',
      }),
    );
    expect(binary.status).toBe(400);
  });

  test('function and event type names are bounded', async () => {
    const { gateway } = await setup();
    await expect(gateway.createEventType({ name: 'x'.repeat(257) })).rejects.toMatchObject({
      message: expect.stringMatching(/at most 256 characters/),
    });
    await expect(
      gateway.registerFunction({ functionId: 'f'.repeat(100_000), handler: () => 1 }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(
      gateway.registerFunction({
        functionId: 't',
        type: 'http',
        provider: { url: 'http://127.0.0.1/', timeout: 2 ** 31 },
      }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/at most 2147483647/) });
  });
});
