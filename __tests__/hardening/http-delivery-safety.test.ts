import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpProvider, type Gateway, type GatewayOptions } from '../../lib';
import { deliveryGateways } from '../helpers/delivery-gateway';
import { cloudEvent } from '../helpers/events';
import { FunctionServer, json } from '../helpers/function-server';

const newGateway = deliveryGateways({ initialDelay: 5, maxDelay: 20, maxAttempts: 1 });

/** A raw server: routes by path, counts open sockets. */
async function rawServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets = new Set<unknown>();
  const server: Server = createServer(handler);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    sockets,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function httpFunction(gateway: Gateway, functionId: string, url: string, eventType: string) {
  await gateway.registerFunction({ functionId, type: 'http', provider: { url } });
  await gateway.createEventType({ name: eventType }).catch(() => undefined);
  await gateway.subscribe({ eventType, functionId });
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

test('a timed-out attempt releases its socket: a dripping function cannot starve healthy ones on its host', async () => {
  const drips = new Set<NodeJS.Timeout>();
  const server = await rawServer((req, res) => {
    req.resume();
    if (req.url === '/drip') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('.'), 50);
      drips.add(timer);
      res.on('close', () => {
        clearInterval(timer);
        drips.delete(timer);
      });
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    }
  });
  stops.push(server.stop);
  // Four connections to the host: without aborts, four dripping answers would hold them all.
  const options: GatewayOptions = {
    timeout: 300,
    providers: { http: new HttpProvider({ connections: 4 }) },
  };
  const { gateway } = await newGateway(options);
  await httpFunction(gateway, 'drip', `${server.url}/drip`, 'slow.thing');
  await httpFunction(gateway, 'healthy', `${server.url}/ok`, 'fast.thing');
  const slow = await Promise.all(
    Array.from({ length: 8 }, () => gateway.emit(cloudEvent('slow.thing'), { wait: true })),
  );
  for (const { outcomes } of slow) {
    expect(outcomes?.[0]).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/timed out after 300 ms/) },
    });
  }
  // Every dripping request was aborted: the server saw each connection close.
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(drips.size).toBe(0);
  const healthy = await Promise.all(
    Array.from({ length: 8 }, () => gateway.emit(cloudEvent('fast.thing'), { wait: true })),
  );
  expect(healthy.map((r) => r.outcomes?.[0].ok)).toEqual(Array(8).fill(true));
});

test('an answer larger than maxResponseBytes fails for good without being read', async () => {
  let sent = 0;
  let closed!: () => void;
  const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
  const chunk = Buffer.alloc(64 * 1024, 97);
  const server = await rawServer((req, res) => {
    req.resume();
    const declared = req.url === '/declared';
    res.writeHead(200, {
      'content-type': 'text/plain',
      ...(declared ? { 'content-length': String(100 * 1024 * 1024) } : {}),
    });
    res.on('close', closed);
    const pump = () => {
      while (sent < 100 * 1024 * 1024 && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  stops.push(server.stop);
  const { gateway, deadLetters } = await newGateway({ maxResponseBytes: 1024 * 1024 });
  await httpFunction(gateway, 'huge', `${server.url}/chunked`, 'big.answer');
  const { outcomes } = await gateway.emit(cloudEvent('big.answer'), { wait: true });
  expect(outcomes?.[0]).toMatchObject({
    ok: false,
    attempts: 1,
    error: {
      retryable: false,
      message: expect.stringMatching(/more than maxResponseBytes \(1048576 bytes/),
    },
  });
  expect(deadLetters).toHaveLength(1);
  await connectionClosed;
  // The connection was dropped long before the 100 MB were sent.
  expect(sent).toBeLessThan(32 * 1024 * 1024);
  await gateway.updateFunction({
    functionId: 'huge',
    type: 'http',
    provider: { url: `${server.url}/declared` },
  });
  const declared = await gateway.invoke({ functionId: 'huge' }).catch((e: Error) => e.message);
  expect(declared).toMatch(/104857600 bytes declared/);
});

test('every emit sends that event: the same object re-emitted with a new id is not the old JSON', async () => {
  const server = await FunctionServer.start(json(200, {}));
  stops.push(() => server.stop());
  const { gateway } = await newGateway();
  await httpFunction(gateway, 'rec', server.url, 'user.created');
  const event = { specversion: '1.0', id: '1', source: '/s', type: 'user.created', data: { v: 1 } };
  await gateway.emit(event, { wait: true });
  event.id = '2';
  event.data.v = 2;
  await gateway.emit(event, { wait: true });
  expect(server.requests.map((r) => JSON.parse(r.body))).toEqual([
    expect.objectContaining({ id: '1', data: { v: 1 } }),
    expect.objectContaining({ id: '2', data: { v: 2 } }),
  ]);
});

test('invoke() of an http function: any payload, sent as it was when invoked', async () => {
  const server = await FunctionServer.start(json(200, { ok: true }));
  stops.push(() => server.stop());
  const { gateway } = await newGateway();
  await gateway.registerFunction({
    functionId: 'rec',
    type: 'http',
    provider: { url: server.url },
  });
  const payload = { n: 1 };
  await gateway.invoke({ functionId: 'rec', payload });
  payload.n = 2;
  await gateway.invoke({ functionId: 'rec', payload });
  await gateway.invoke({ functionId: 'rec' });
  await gateway.invoke({ functionId: 'rec', payload: 'text' });
  await gateway.invoke({ functionId: 'rec', payload: 42 });
  expect(server.requests.map((r) => [r.headers['content-type'], r.body])).toEqual([
    ['application/json; charset=utf-8', '{"n":1}'],
    ['application/json; charset=utf-8', '{"n":2}'],
    [undefined, ''],
    ['application/json; charset=utf-8', '"text"'],
    ['application/json; charset=utf-8', '42'],
  ]);
});

describe('outbound policy', () => {
  test('metadata and link-local addresses are refused by default; loopback is allowed', async () => {
    const { gateway } = await newGateway();
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/latest/',
      'http://[fe80::1]/',
      'http://metadata.google.internal/computeMetadata/v1/',
    ]) {
      await expect(
        gateway.registerFunction({ functionId: 'meta', type: 'http', provider: { url } }),
      ).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        message: expect.stringMatching(/refused/),
      });
    }
    await expect(
      gateway.registerFunction({
        functionId: 'local',
        type: 'http',
        provider: { url: 'http://127.0.0.1:1/' },
      }),
    ).resolves.toMatchObject({ functionId: 'local' });
  });

  test('allow and deny lists, and loopback turned off', async () => {
    const { gateway } = await newGateway({
      outbound: { allow: ['*.example.com', '10.1.0.0/16'], deny: ['bad.example.com'] },
    });
    let n = 0;
    const register = (url: string) =>
      gateway.registerFunction({ functionId: `f${++n}`, type: 'http', provider: { url } }).then(
        () => 'ok',
        (e: Error) => e.message,
      );
    expect(await register('https://api.example.com/f')).toBe('ok');
    expect(await register('http://10.1.2.3/f')).toBe('ok');
    expect(await register('https://bad.example.com/f')).toMatch(/denied by the outbound policy/);
    expect(await register('https://other.org/f')).toMatch(/not in the outbound allow list/);
    expect(await register('http://127.0.0.1/f')).toMatch(/not in the outbound allow list/);
    const strict = (await newGateway({ outbound: { allowLoopback: false } })).gateway;
    await expect(
      strict.registerFunction({
        functionId: 'f',
        type: 'http',
        provider: { url: 'http://localhost:80/' },
      }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/host "localhost" is blocked/) });
  });

  test('a name is checked again at connect time, on every address it resolves to', async () => {
    const server = await FunctionServer.start(json(200, {}));
    stops.push(() => server.stop());
    const port = new URL(server.url).port;
    // The name passes at registration; what it resolves to (loopback) is denied when connecting.
    const { gateway, deadLetters } = await newGateway({
      outbound: { deny: ['127.0.0.0/8', '::1'] },
    });
    await httpFunction(gateway, 'rebound', `http://localhost:${port}/`, 'user.created');
    const { outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(outcomes?.[0]).toMatchObject({
      ok: false,
      attempts: 1,
      error: {
        retryable: false,
        message: expect.stringMatching(/denied by the outbound policy.*EOUTBOUNDDENIED/),
      },
    });
    expect(deadLetters).toHaveLength(1);
    expect(server.requests).toHaveLength(0);
  });

  test('URL credentials are sent as Basic auth and never shown; or refused when the policy says so', async () => {
    const server = await FunctionServer.start(json(503, {}));
    stops.push(() => server.stop());
    const url = server.url.replace('http://', 'http://user:s%3Acret@') + 'hook?token=abc';
    const { gateway, deadLetters } = await newGateway();
    await httpFunction(gateway, 'secret', url, 'user.created');
    await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(server.requests[0].headers.authorization).toBe(
      'Basic ' + Buffer.from('user:s:cret').toString('base64'),
    );
    expect(server.requests[0].url).toBe('/hook?token=abc');
    await server.stop();
    await gateway.emit(cloudEvent('user.created'), { wait: true });
    const messages = deadLetters.map((l) => `${l.reason} ${l.error.message}`).join('\n');
    expect(messages).toMatch(
      /could not be reached at http:\/\/\[redacted\]@127\.0\.0\.1:\d+\/hook\?\[redacted\]/,
    );
    expect(messages).not.toMatch(/s%3Acret|token=abc/);
    const refusing = (await newGateway({ outbound: { credentials: 'refuse' } })).gateway;
    await expect(
      refusing.registerFunction({ functionId: 'f', type: 'http', provider: { url } }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/credentials in URLs are refused/) });
  });
});
