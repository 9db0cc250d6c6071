import type { Gateway } from '../lib';
import { deliveryGateways } from './helpers/delivery-gateway';
import { cloudEvent } from './helpers/events';
import { FunctionServer, hang, json, latch, reset, sequence } from './helpers/function-server';

const FAST_RETRY = { initialDelay: 5, maxDelay: 20, maxAttempts: 3, maxAge: 10_000 };

describe('delivery to HTTP functions', () => {
  const servers: FunctionServer[] = [];
  const serve = async (...args: Parameters<typeof FunctionServer.start>) => {
    const server = await FunctionServer.start(...args);
    servers.push(server);
    return server;
  };
  const gatewayWith = deliveryGateways(FAST_RETRY);
  const subscribeHttp = async (
    gateway: Gateway,
    functionId: string,
    url: string,
    provider: object = {},
    eventType = 'user.created',
  ) => {
    await gateway.registerFunction({ functionId, type: 'http', provider: { url, ...provider } });
    if (!gateway.listEventTypes().some((e) => e.name === eventType))
      await gateway.createEventType({ name: eventType });
    return gateway.subscribe({ eventType, functionId });
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  test('success: the event is POSTed as structured CloudEvents JSON; the result is the response body', async () => {
    const server = await serve(json(200, { greeting: 'hello' }));
    const { gateway } = await gatewayWith();
    const sub = await subscribeHttp(gateway, 'greeter', server.url);
    const invoked: unknown[] = [];
    gateway.on('function.invoked', (e) => invoked.push(e));
    const event = cloudEvent('user.created', { name: 'Ada' });
    const result = await gateway.emit(event, { wait: true });
    expect(result).toEqual({
      eventId: event.id,
      space: 'default',
      accepted: 1,
      outcomes: [
        expect.objectContaining({
          ok: true,
          subscriptionId: sub.subscriptionId,
          functionId: 'greeter',
          result: { greeting: 'hello' },
          attempts: 1,
        }),
      ],
    });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0].method).toBe('POST');
    expect(server.requests[0].headers['content-type']).toBe(
      'application/cloudevents+json; charset=utf-8',
    );
    expect(JSON.parse(server.requests[0].body)).toEqual({ ...event, hopcount: 0 });
    expect(invoked).toEqual([
      expect.objectContaining({
        space: 'default',
        functionId: 'greeter',
        event: { ...event, hopcount: 0 },
        result: { greeting: 'hello' },
        attempts: 1,
        durationMs: expect.any(Number),
      }),
    ]);
  });

  test('fails twice with 503, then succeeds: 3 attempts', async () => {
    const server = await serve(
      sequence(json(503, { e: 1 }), json(503, { e: 2 }), json(200, 'third time')),
    );
    const { gateway, deadLetters } = await gatewayWith();
    await subscribeHttp(gateway, 'f', server.url);
    const { outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(outcomes).toEqual([
      expect.objectContaining({ ok: true, attempts: 3, result: 'third time' }),
    ]);
    expect(server.requests).toHaveLength(3);
    expect(deadLetters).toEqual([]);
    expect(gateway.metrics()).toMatchObject({
      deliveriesAccepted: 1,
      deliveriesSucceeded: 1,
      deliveriesRetried: 2,
      deliveriesDeadLettered: 0,
    });
  });

  test('429 with Retry-After: the retry waits at least that long', async () => {
    const server = await serve(sequence(json(429, {}, { 'retry-after': '1' }), json(200, 'ok')));
    const { gateway } = await gatewayWith();
    await subscribeHttp(gateway, 'f', server.url);
    const { outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(outcomes?.[0]).toMatchObject({ ok: true, attempts: 2 });
    expect(server.requests[1].at - server.requests[0].at).toBeGreaterThanOrEqual(990);
  });

  test('400 is not retried and is dead-lettered with the status and the attempts', async () => {
    const server = await serve(json(400, { error: 'bad' }));
    const { gateway, deadLetters } = await gatewayWith();
    const sub = await subscribeHttp(gateway, 'f', server.url);
    const failed: unknown[] = [];
    gateway.on('function.invocationFailed', (e) => failed.push(e));
    const event = cloudEvent('user.created');
    const { outcomes } = await gateway.emit(event, { wait: true });
    expect(server.requests).toHaveLength(1);
    expect(outcomes?.[0]).toMatchObject({
      ok: false,
      attempts: 1,
      error: { code: 'INVOCATION_FAILED', statusCode: 400, retryable: false },
    });
    expect(deadLetters).toEqual([
      expect.objectContaining({
        space: 'default',
        event: { ...event, hopcount: 0 },
        subscriptionId: sub.subscriptionId,
        functionId: 'f',
        lastStatus: 400,
        attempts: 1,
        reason: expect.stringMatching(/final failure: Function "f" answered HTTP 400/),
      }),
    ]);
    expect(failed).toEqual([
      expect.objectContaining({
        functionId: 'f',
        lastStatus: 400,
        attempts: 1,
        reason: deadLetters[0].reason,
      }),
    ]);
  });

  test('3xx and other 4xx are final; 408, 425 and 5xx are retried', async () => {
    for (const [status, attempts] of [
      [301, 1],
      [404, 1],
      [408, 3],
      [425, 3],
      [502, 3],
    ]) {
      const server = await serve(json(status, {}));
      const { gateway, deadLetters } = await gatewayWith();
      await subscribeHttp(gateway, 'f', server.url);
      await gateway.emit(cloudEvent('user.created'), { wait: true });
      expect([status, server.requests.length]).toEqual([status, attempts]);
      expect(deadLetters[0]).toMatchObject({ lastStatus: status, attempts });
    }
  });

  test('a function hanging past its timeout fails each attempt and is dead-lettered', async () => {
    const server = await serve(hang);
    const { gateway, deadLetters } = await gatewayWith({
      retry: { ...FAST_RETRY, maxAttempts: 2 },
    });
    await subscribeHttp(gateway, 'slow', server.url, { timeout: 150 });
    const started = Date.now();
    const { outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(server.requests).toHaveLength(2);
    expect(outcomes?.[0]).toMatchObject({ ok: false, attempts: 2 });
    expect(deadLetters[0].reason).toMatch(
      /2 attempts failed; the last: Function "slow" timed out after 150 ms/,
    );
  });

  test('retries use the configuration as it is now: a URL fixed during backoff, or a function deleted', async () => {
    // The broken function answers only once the test has changed the configuration: with full
    // jitter a retry may follow at once, so the change must be in place before the failure.
    let gate = latch();
    const broken = await serve(async (_n, _req, res) => {
      await gate.promise;
      json(503, {})(_n, _req, res, '');
    });
    const fixed = await serve(json(200, 'fixed'));
    const { gateway, deadLetters } = await gatewayWith({
      retry: { initialDelay: 300, maxDelay: 300, maxAttempts: 3, maxAge: 10_000 },
    });
    await subscribeHttp(gateway, 'f', broken.url);
    const first = gateway.emit(cloudEvent('user.created'), { wait: true });
    while (broken.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await gateway.updateFunction({ functionId: 'f', type: 'http', provider: { url: fixed.url } });
    gate.release();
    expect((await first).outcomes?.[0]).toMatchObject({ ok: true, result: 'fixed', attempts: 2 });
    expect(broken.requests).toHaveLength(1);

    gate = latch();
    await gateway.updateFunction({ functionId: 'f', type: 'http', provider: { url: broken.url } });
    const second = gateway.emit(cloudEvent('user.created'), { wait: true });
    while (broken.requests.length === 1) await new Promise((r) => setTimeout(r, 5));
    await gateway.unsubscribe({ subscriptionId: gateway.listSubscriptions()[0].subscriptionId });
    await gateway.deleteFunction({ functionId: 'f' });
    gate.release();
    expect((await second).outcomes?.[0]).toMatchObject({ ok: false, attempts: 1 });
    expect(deadLetters.at(-1)?.reason).toBe('function "f" was deleted before the retry');
  });

  test('a connection reset is retried', async () => {
    const server = await serve(sequence(reset, json(200, 'after reset')));
    const { gateway } = await gatewayWith();
    await subscribeHttp(gateway, 'f', server.url);
    const { outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(outcomes?.[0]).toMatchObject({ ok: true, attempts: 2, result: 'after reset' });
  });

  test('an unreachable function is retried, then dead-lettered with the connection error', async () => {
    const server = await serve();
    const url = server.url;
    await server.stop();
    servers.splice(servers.indexOf(server), 1);
    const { gateway, deadLetters } = await gatewayWith();
    await subscribeHttp(gateway, 'gone', url);
    await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(deadLetters[0]).toMatchObject({
      attempts: 3,
      reason: expect.stringMatching(/could not be reached at .*ECONNREFUSED/),
    });
  });

  test('a slow function does not hold up the others', async () => {
    const held = latch();
    const slow = await serve(async (_n, _req, res) => {
      await held.promise;
      json(200, 'slow')(0, _req, res, '');
    });
    const fast = await serve(json(200, 'fast'));
    const { gateway } = await gatewayWith({ concurrency: 4 });
    await subscribeHttp(gateway, 'slow', slow.url);
    await subscribeHttp(gateway, 'fast', fast.url);
    const delivered: string[] = [];
    gateway.on('function.invoked', (e) => delivered.push(e.functionId));
    const done = gateway.emit(cloudEvent('user.created'), { wait: true });
    for (let i = 0; i < 5; i++) await gateway.emit(cloudEvent('user.created'));
    while (delivered.filter((f) => f === 'fast').length < 6)
      await new Promise((r) => setTimeout(r, 5));
    expect(delivered).not.toContain('slow');
    held.release();
    await done;
    expect(delivered.filter((f) => f === 'slow').length).toBeGreaterThanOrEqual(1);
  });

  test('fan-out: one event reaches every subscribed function', async () => {
    const server = await serve(json(200, 'ok'));
    const { gateway } = await gatewayWith();
    await gateway.createEventType({ name: 'broadcast' });
    for (let i = 0; i < 50; i++) {
      await gateway.registerFunction({
        functionId: `f${i}`,
        type: 'http',
        provider: { url: `${server.url}f${i}` },
      });
      await gateway.subscribe({ eventType: 'broadcast', functionId: `f${i}` });
    }
    const { accepted, outcomes } = await gateway.emit(cloudEvent('broadcast'), { wait: true });
    expect(accepted).toBe(50);
    expect(outcomes?.every((o) => o.ok)).toBe(true);
    expect(server.requests.map((r) => r.url).sort()).toEqual(
      Array.from({ length: 50 }, (_, i) => `/f${i}`).sort(),
    );
  });

  test('accounting: delivered + dead-lettered = accepted, always', async () => {
    // Every third request fails for good, every third fails once then succeeds, the rest succeed.
    const server = await serve((n, req, res) => {
      const kind = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('k'));
      if (kind === 0) return json(400, {})(n, req, res, '');
      if (kind === 1 && n % 2 === 0) return json(500, {})(n, req, res, '');
      return json(200, 'ok')(n, req, res, '');
    });
    const { gateway, deadLetters } = await gatewayWith({
      retry: { ...FAST_RETRY, maxAttempts: 4 },
    });
    await gateway.createEventType({ name: 'mixed' });
    for (let i = 0; i < 9; i++) {
      await gateway.registerFunction({
        functionId: `f${i}`,
        type: 'http',
        provider: { url: `${server.url}?k=${i % 3}` },
      });
      await gateway.subscribe({ eventType: 'mixed', functionId: `f${i}` });
    }
    let accepted = 0;
    const waits = [];
    for (let i = 0; i < 20; i++) {
      const result = gateway.emit(cloudEvent('mixed'), { wait: true });
      waits.push(result);
      accepted += (await result).accepted;
    }
    await Promise.all(waits);
    const m = gateway.metrics();
    expect(m.deliveriesAccepted).toBe(accepted);
    expect(m.deliveriesSucceeded + m.deliveriesDeadLettered).toBe(accepted);
    expect(deadLetters).toHaveLength(m.deliveriesDeadLettered);
    expect(deadLetters.length).toBeGreaterThan(0);
    expect(m.deliveriesPending).toBe(0);
  });

  test("a function's URL and retry policy changed between emits, and its URL between two attempts, are the next delivery's", async () => {
    // A guard (passes on the cached lookups by function record and subscription): each change
    // reaches the next delivery, or the next attempt of one in progress.
    const { gateway } = await gatewayWith();
    await gateway.createEventType({ name: 'user.created' });
    const first = await serve(json(500, { no: 1 }));
    const second = await serve(json(200, { from: 'second' }));
    const emit = async () =>
      (await gateway.emit(cloudEvent('user.created'), { wait: true })).outcomes?.[0];
    await gateway.registerFunction({ functionId: 'f', type: 'http', provider: { url: first.url } });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'f' });
    expect(await emit()).toMatchObject({ ok: false });
    expect(first.requests).toHaveLength(FAST_RETRY.maxAttempts);
    // One attempt only now.
    await gateway.updateFunction({
      functionId: 'f',
      type: 'http',
      provider: { url: first.url },
      retry: { maxAttempts: 1 },
    });
    expect(await emit()).toMatchObject({ ok: false });
    expect(first.requests).toHaveLength(FAST_RETRY.maxAttempts + 1);
    await gateway.updateFunction({ functionId: 'f', type: 'http', provider: { url: second.url } });
    expect(await emit()).toMatchObject({ ok: true, result: { from: 'second' } });
    // Between the first attempt (refused by the first server) and the retry, the URL moves.
    await gateway.updateFunction({ functionId: 'f', type: 'http', provider: { url: first.url } });
    const moved = latch();
    first.respond((_n, _req, res) => {
      res.writeHead(503).end();
      moved.release();
    });
    const during = gateway.emit(cloudEvent('user.created'), { wait: true });
    await moved.promise;
    await gateway.updateFunction({ functionId: 'f', type: 'http', provider: { url: second.url } });
    expect((await during).outcomes?.[0]).toMatchObject({ ok: true, result: { from: 'second' } });
  });
});
