import { request } from 'undici';
import {
  createGateway,
  MemoryStore,
  type CloudEvent,
  type Gateway,
  type HttpRequestData,
} from '../../lib';
import { SERVERS, type ApiServer } from './servers';

const CE = 'application/cloudevents+json';

describe.each(SERVERS)('Events API in %s', (_name, start) => {
  let gateway: Gateway;
  let server: ApiServer;
  let received: Record<string, CloudEvent[]>;

  /** A local function that records what it receives and answers `answer(event)`. */
  const fn = (
    functionId: string,
    answer: (event: CloudEvent) => unknown = () => 'ok',
    space?: string,
  ) =>
    gateway.registerFunction({
      space,
      functionId,
      handler: (event) => {
        (received[functionId] ??= []).push(event as CloudEvent);
        return answer(event as CloudEvent);
      },
    });

  const send = async (
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
  ) => {
    const res = await request(server.url + path, {
      method: (init.method ?? 'POST') as 'POST',
      headers: init.headers,
      body: init.body,
    });
    const body = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body, json: () => JSON.parse(body) };
  };

  /** Waits until the async deliveries of what was sent have been made. */
  const settled = async () => {
    while (gateway.metrics().deliveriesPending > 0) await new Promise((r) => setTimeout(r, 2));
  };

  beforeEach(async () => {
    received = {};
    gateway = createGateway(new MemoryStore(), { resyncInterval: 0, retry: { maxAttempts: 1 } });
    await gateway.createEventType({ name: 'user.created' });
    await fn('listener');
    await gateway.subscribe({ eventType: 'user.created', functionId: 'listener' });
    server = await start(gateway, {
      space: (req) => (req.headers['x-space'] as string) ?? 'default',
      bodyLimit: 4096,
    });
  });
  afterEach(async () => {
    await server.close();
    await gateway.close();
  });

  const event = {
    specversion: '1.0',
    id: 'e-1',
    source: '/tests',
    type: 'user.created',
    data: { name: 'Ada' },
  };

  test('structured mode: 202, the event delivered as sent', async () => {
    const res = await send('/', { headers: { 'content-type': CE }, body: JSON.stringify(event) });
    expect(res.status).toBe(202);
    await settled();
    expect(received.listener).toEqual([{ ...event, hopcount: 0 }]);
  });

  test('binary mode (1.0): attributes from ce-* headers, data from the body', async () => {
    const res = await send('/', {
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': 'b-1',
        'ce-source': '/binary',
        'ce-type': 'user.created',
        'ce-subject': 'user%2F42',
      },
      body: JSON.stringify({ name: 'Grace' }),
    });
    expect(res.status).toBe(202);
    await settled();
    expect(received.listener).toEqual([
      {
        hopcount: 0,
        specversion: '1.0',
        id: 'b-1',
        source: '/binary',
        type: 'user.created',
        subject: 'user/42',
        datacontenttype: 'application/json',
        data: { name: 'Grace' },
      },
    ]);
  });

  test('binary mode (0.1) and a CloudEvents 0.1 JSON body are accepted and converted', async () => {
    await send('/', {
      headers: {
        'content-type': 'text/plain',
        'ce-cloudeventsversion': '0.1',
        'ce-eventtype': 'user.created',
        'ce-source': '/old',
        'ce-eventid': 'o-1',
        'ce-x-trace': 't1',
      },
      body: 'hello',
    });
    const v01 = {
      cloudEventsVersion: '0.1',
      eventType: 'user.created',
      source: '/old',
      eventID: 'o-2',
      data: { a: 1 },
    };
    const res = await send('/', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(v01),
    });
    expect(res.status).toBe(202);
    await settled();
    expect(received.listener).toEqual([
      {
        hopcount: 0,
        specversion: '1.0',
        id: 'o-1',
        source: '/old',
        type: 'user.created',
        datacontenttype: 'text/plain',
        data: 'hello',
        trace: 't1',
      },
      {
        hopcount: 0,
        specversion: '1.0',
        id: 'o-2',
        source: '/old',
        type: 'user.created',
        data: { a: 1 },
      },
    ]);
  });

  test('batch mode: every event delivered; one invalid event refuses the whole batch', async () => {
    const batch = [event, { ...event, id: 'e-2' }];
    const ok = await send('/', {
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify(batch),
    });
    expect(ok.status).toBe(202);
    const bad = await send('/', {
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify([
        { ...event, id: 'e-3' },
        { ...event, id: '' },
      ]),
    });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({
      errors: [
        {
          message: `CloudEvent doesn't validate: event 1 of the batch: "id" is required and must be a non-empty string.`,
        },
      ],
    });
    await settled();
    expect(received.listener.map((e) => e.id)).toEqual(['e-1', 'e-2']);
  });

  test('the legacy Event header names the type; the body is the data', async () => {
    const res = await send('/', {
      headers: { event: 'user.created', 'content-type': 'application/json' },
      body: '{"legacy":true}',
    });
    expect(res.status).toBe(202);
    await settled();
    expect(received.listener).toEqual([
      expect.objectContaining({
        specversion: '1.0',
        type: 'user.created',
        datacontenttype: 'application/json',
        data: { legacy: true },
        id: expect.any(String),
      }),
    ]);
  });

  test('invalid events get 400 with the 0.9 error body; nothing is delivered', async () => {
    const missingId = await send('/', {
      headers: { 'content-type': CE },
      body: JSON.stringify({ ...event, id: undefined }),
    });
    expect(missingId.status).toBe(400);
    expect(missingId.json()).toEqual({
      errors: [
        {
          message: `CloudEvent doesn't validate: "id" is required and must be a non-empty string.`,
        },
      ],
    });
    const notJson = await send('/', { headers: { 'content-type': CE }, body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(notJson.json().errors[0].message).toMatch(
      /^CloudEvent doesn't validate: the body is not valid JSON/,
    );
    expect(received.listener).toBeUndefined();
  });

  test('a body over the limit gets 413', async () => {
    const res = await send('/', {
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(5000),
    });
    expect(res.status).toBe(413);
    expect(res.json()).toEqual({ errors: [{ message: 'Request body larger than 4096 bytes.' }] });
  });

  test('sync subscriptions answer with the function response; params and wildcards reach it', async () => {
    await fn('user', (e) => ({
      statusCode: 201,
      headers: { 'x-user': (e.data as HttpRequestData).params.id },
      body: JSON.stringify({
        id: (e.data as HttpRequestData).params.id,
        q: (e.data as HttpRequestData).query,
      }),
    }));
    await fn('files', (e) => ({ body: (e.data as HttpRequestData).params.rest }));
    await gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'user',
      method: 'GET',
      path: '/users/:id',
    });
    await gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'files',
      method: 'GET',
      path: '/files/*rest',
    });
    const user = await send('/users/42?x=1&x=2', { method: 'GET' });
    expect(user.status).toBe(201);
    expect(user.headers['x-user']).toBe('42');
    expect(user.json()).toEqual({ id: '42', q: { x: ['1', '2'] } });
    const files = await send('/files/a/b%20c.txt', { method: 'GET' });
    expect(files.status).toBe(200);
    expect(files.body).toBe('a/b c.txt');
    const data = received.user[0].data as HttpRequestData;
    expect(received.user[0]).toMatchObject({ specversion: '1.0', type: 'http.request' });
    expect(data).toMatchObject({
      path: '/users/42',
      method: 'GET',
      host: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      params: { id: '42' },
    });
    expect((await send('/nothing', { method: 'GET' })).status).toBe(202);
  });

  test('sync and async subscriptions on one path and type: both run', async () => {
    await fn('answer', () => ({ body: 'answered' }));
    await fn('audit');
    await gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'answer',
      method: 'POST',
      path: '/orders',
    });
    await gateway.subscribe({
      type: 'async',
      eventType: 'http.request',
      functionId: 'audit',
      method: 'POST',
      path: '/orders',
    });
    const res = await send('/orders', {
      headers: { 'content-type': 'application/json' },
      body: '{"n":1}',
    });
    expect(res.body).toBe('answered');
    await settled();
    expect((received.audit[0].data as HttpRequestData).body).toEqual({ n: 1 });
    expect(received.audit[0].id).toBe(received.answer[0].id);
  });

  test('two spaces with the same path never collide', async () => {
    for (const space of ['tenant-a', 'tenant-b']) {
      await fn(`fn`, () => ({ body: space }), space);
      await gateway.subscribe({
        space,
        type: 'sync',
        eventType: 'http.request',
        functionId: 'fn',
        method: 'GET',
        path: '/same',
      });
    }
    expect((await send('/same', { method: 'GET', headers: { 'x-space': 'tenant-a' } })).body).toBe(
      'tenant-a',
    );
    expect((await send('/same', { method: 'GET', headers: { 'x-space': 'tenant-b' } })).body).toBe(
      'tenant-b',
    );
    expect((await send('/same', { method: 'GET' })).status).toBe(202);
    const bad = await send('/same', { method: 'GET', headers: { 'x-space': 'no' } });
    expect(bad.status).toBe(400);
    expect(bad.json()).toEqual({ errors: [{ message: 'Invalid space "no" for this request.' }] });
  });

  test('authorizers: a refusal is 403 with its message and nothing is delivered; an allowance travels with the event', async () => {
    await fn('auth', (e) => {
      const { event: ev } = e as unknown as {
        event: CloudEvent;
        request: { headers: Record<string, string> };
      };
      const token = (e as unknown as { request: { headers: Record<string, string> } }).request
        .headers.authorization;
      return token === 'secret'
        ? { authorization: { principalId: 'ada', context: { id: ev.id } } }
        : { error: { message: 'bad token' } };
    });
    await gateway.updateEventType({ name: 'user.created', authorizerId: 'auth' });
    const denied = await send('/', {
      headers: { 'content-type': CE, authorization: 'wrong' },
      body: JSON.stringify(event),
    });
    expect(denied.status).toBe(403);
    expect(denied.json()).toEqual({ errors: [{ message: 'bad token' }] });
    await settled();
    expect(received.listener).toBeUndefined();
    const allowed = await send('/', {
      headers: { 'content-type': CE, authorization: 'secret' },
      body: JSON.stringify(event),
    });
    expect(allowed.status).toBe(202);
    await settled();
    expect(JSON.parse(received.listener[0].eventgatewayauthorization as string)).toEqual({
      principalId: 'ada',
      context: { id: 'e-1' },
    });
  });

  test('a wildcard subscriber gets only what the concrete type’s authorizer lets in', async () => {
    await fn('auth', (e) => {
      const token = (e as unknown as { request: { headers: Record<string, string> } }).request
        .headers.authorization;
      return token === 'secret'
        ? { authorization: { principalId: 'ada' } }
        : { error: { message: 'bad token' } };
    });
    await fn('family');
    await gateway.updateEventType({ name: 'user.created', authorizerId: 'auth' });
    await gateway.subscribe({ eventType: 'user.*', functionId: 'family' });
    const denied = await send('/', {
      headers: { 'content-type': CE, authorization: 'wrong' },
      body: JSON.stringify(event),
    });
    expect(denied.status).toBe(403);
    await settled();
    expect(received.family).toBeUndefined();
    const allowed = await send('/', {
      headers: { 'content-type': CE, authorization: 'secret' },
      body: JSON.stringify(event),
    });
    expect(allowed.status).toBe(202);
    await settled();
    expect(received.family.map((e) => e.id)).toEqual(['e-1']);
  });

  test('CORS: preflights answered, responses decorated, other origins refused', async () => {
    await fn('api', () => ({ body: 'data' }));
    await gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'api',
      method: 'GET',
      path: '/api/:id',
    });
    await gateway.createCors({
      method: 'GET',
      path: '/api/:id',
      allowedOrigins: ['https://*.example.com'],
      allowedHeaders: ['X-Token'],
      allowCredentials: true,
    });
    const preflight = await send('/api/7', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-methods': 'HEAD, GET, POST',
      'access-control-allow-headers': 'X-Token',
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    });
    const actual = await send('/api/7', {
      method: 'GET',
      headers: { origin: 'https://app.example.com' },
    });
    expect(actual.body).toBe('data');
    expect(actual.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const evil = await send('/api/7', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'GET' },
    });
    expect(evil.status).toBe(403);
    const noCors = await send('/api/7', {
      method: 'GET',
      headers: { origin: 'https://evil.test' },
    });
    expect(noCors.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('a failing function and a malformed response are 500 without details (they reach the host listeners); binary bodies via base64', async () => {
    await fn('boom', () => {
      throw new Error('kaput');
    });
    await fn('malformed', () => ({ statusCode: 'two hundred' }));
    await fn('image', () => ({
      headers: { 'content-type': 'image/png' },
      body: Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString('base64'),
      isBase64Encoded: true,
    }));
    for (const id of ['boom', 'malformed', 'image']) {
      await gateway.subscribe({
        type: 'sync',
        eventType: 'http.request',
        functionId: id,
        method: 'GET',
        path: `/${id}`,
      });
    }
    // The client learns nothing of the failure (0.9's message); the details reach the host.
    const failures: string[] = [];
    const errors: string[] = [];
    gateway.on('function.invocationFailed', ({ reason }) => failures.push(reason));
    gateway.on('gateway.error', (error) => errors.push(error.message));
    const boom = await send('/boom', { method: 'GET' });
    expect(boom.status).toBe(500);
    expect(boom.json()).toEqual({
      errors: [{ message: 'Function call failed. Please check logs.' }],
    });
    expect(failures).toEqual(['Function "boom" threw: kaput']);
    const malformed = await send('/malformed', { method: 'GET' });
    expect(malformed.status).toBe(500);
    expect(malformed.json().errors[0].message).toBe('Function call failed. Please check logs.');
    expect(errors).toEqual([
      'Function "malformed" answered a malformed response: "statusCode" must be an integer from 100 to 599 (got "two hundred").',
    ]);
    const res = await request(server.url + '/image');
    expect(res.headers['content-type']).toBe('image/png');
    expect(Buffer.from(await res.body.arrayBuffer())).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47]),
    );
  });

  test('binary request bodies reach http.request functions as base64', async () => {
    await fn('upload', (e) => ({
      body: JSON.stringify({
        b64: (e.data as HttpRequestData).isBase64Encoded,
        body: (e.data as HttpRequestData).body,
      }),
    }));
    await gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'upload',
      method: 'PUT',
      path: '/upload',
    });
    const res = await send('/upload', {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from([1, 2, 3]),
    });
    expect(res.json()).toEqual({ b64: true, body: 'AQID' });
  });
});
