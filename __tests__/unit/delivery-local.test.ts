import { Registry } from 'prom-client';
import {
  BackpressureError,
  GatewayClosedError,
  MemoryStore,
  registerPrometheusMetrics,
  ValidationError,
  type CloudEvent,
  type GatewayOptions,
  type Provider,
} from '../../lib';
import { deliveryGateways } from '../helpers/delivery-gateway';
import { cloudEvent } from '../helpers/events';
import { latch } from '../helpers/function-server';

const FAST_RETRY = { initialDelay: 2, maxDelay: 10, maxAttempts: 3, maxAge: 10_000 };

const newGateway = deliveryGateways(FAST_RETRY);
async function gatewayWith(options: GatewayOptions = {}, store = new MemoryStore()) {
  const fixture = await newGateway(options, store);
  await fixture.gateway.createEventType({ name: 'user.created' }).catch(() => undefined);
  return fixture;
}

describe('emit and the local provider', () => {
  test('a local handler receives the event and its result is the outcome', async () => {
    const { gateway } = await gatewayWith();
    const seen: CloudEvent[] = [];
    await gateway.registerFunction({
      functionId: 'greet',
      handler: async (event, context) => {
        seen.push(event as CloudEvent);
        return {
          hello: (event as CloudEvent & { data: { name: string } }).data.name,
          functionId: context.functionId,
        };
      },
    });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'greet' });
    const event = cloudEvent('user.created', { name: 'Ada' });
    const { outcomes, accepted, eventId } = await gateway.emit(event, { wait: true });
    expect(accepted).toBe(1);
    expect(eventId).toBe(event.id);
    expect(outcomes).toEqual([
      expect.objectContaining({
        ok: true,
        result: { hello: 'Ada', functionId: 'greet' },
        attempts: 1,
      }),
    ]);
    // As sent, plus its hop count (0: it came in for the first time).
    expect(seen).toEqual([{ ...event, hopcount: 0 }]);
  });

  test('each delivery takes its function as configured now: an update between emits is seen by the next', async () => {
    const { gateway } = await gatewayWith();
    let calls = 0;
    const handler = () => {
      calls++;
      if (calls === 2) throw new Error('not yet');
      return calls;
    };
    await gateway.registerFunction({ functionId: 'flaky', retry: { maxAttempts: 1 }, handler });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'flaky' });
    const first = await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(first.outcomes).toEqual([expect.objectContaining({ ok: true, result: 1 })]);
    await gateway.updateFunction({
      functionId: 'flaky',
      handler,
      retry: { maxAttempts: 2, initialDelay: 1, maxDelay: 2 },
    });
    // The second call fails; the retry that only the updated policy allows succeeds.
    const second = await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(second.outcomes).toEqual([
      expect.objectContaining({ ok: true, result: 3, attempts: 2 }),
    ]);
  });

  test('a handler bound again, or unbound by an update to another type, is what the next delivery finds', async () => {
    const { gateway } = await gatewayWith();
    await gateway.registerFunction({ functionId: 'h', handler: () => 'first' });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'h' });
    const outcome = async () =>
      (await gateway.emit(cloudEvent('user.created'), { wait: true })).outcomes?.[0];
    expect(await outcome()).toMatchObject({ ok: true, result: 'first' });
    gateway.bindLocalHandler({ functionId: 'h', handler: () => 'second' });
    expect(await outcome()).toMatchObject({ ok: true, result: 'second' });
    await gateway.updateFunction({
      functionId: 'h',
      type: 'http',
      provider: { url: 'http://127.0.0.1:9/' },
    });
    await gateway.updateFunction({ functionId: 'h', handler: () => 'third' });
    expect(await outcome()).toMatchObject({ ok: true, result: 'third' });
  });

  test('without wait, emit resolves on acceptance; an event nobody subscribed to is accepted by none', async () => {
    const { gateway } = await gatewayWith();
    const done = latch();
    await gateway.registerFunction({ functionId: 'f', handler: () => done.release() });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'f' });
    expect(await gateway.emit(cloudEvent('user.created'))).toMatchObject({ accepted: 1 });
    await done.promise;
    expect(await gateway.emit(cloudEvent('nobody.listens'), { wait: true })).toMatchObject({
      accepted: 0,
      outcomes: [],
    });
  });

  test('a handler that throws is retried; one that says retryable: false is final', async () => {
    const { gateway, deadLetters } = await gatewayWith();
    let calls = 0;
    await gateway.registerFunction({
      functionId: 'flaky',
      handler: () => {
        if (++calls < 3) throw new Error(`boom ${calls}`);
        return 'third';
      },
    });
    await gateway.registerFunction({
      functionId: 'refuses',
      handler: () => {
        throw Object.assign(new Error('bad input'), { retryable: false });
      },
    });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'flaky' });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'refuses' });
    const { outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
    const byFunction = Object.fromEntries((outcomes ?? []).map((o) => [o.functionId, o]));
    expect(byFunction.flaky).toMatchObject({ ok: true, attempts: 3, result: 'third' });
    expect(byFunction.refuses).toMatchObject({ ok: false, attempts: 1 });
    expect(deadLetters).toEqual([
      expect.objectContaining({
        functionId: 'refuses',
        reason: 'a final failure: Function "refuses" threw: bad input',
      }),
    ]);
  });

  test('a handler ignoring its abort signal still times out', async () => {
    const { gateway, deadLetters } = await gatewayWith({
      timeout: 50,
      retry: { ...FAST_RETRY, maxAttempts: 1 },
    });
    let signalled = false;
    await gateway.registerFunction({
      functionId: 'stuck',
      handler: (_e, { signal }) => {
        signal.addEventListener('abort', () => (signalled = true));
        return new Promise(() => undefined);
      },
    });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'stuck' });
    await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(signalled).toBe(true);
    expect(deadLetters[0].reason).toMatch(/Function "stuck" timed out after 50 ms/);
  });

  test('a local function without a handler on this instance fails for good, without retries', async () => {
    const store = new MemoryStore();
    const { gateway: a } = await gatewayWith({}, store);
    await a.registerFunction({ functionId: 'here-only', handler: () => 'a' });
    await a.subscribe({ eventType: 'user.created', functionId: 'here-only' });
    const { gateway: b, deadLetters } = await gatewayWith({}, store);
    const { outcomes } = await b.emit(cloudEvent('user.created'), { wait: true });
    expect(outcomes?.[0]).toMatchObject({ ok: false, attempts: 1 });
    expect(deadLetters[0].reason).toMatch(
      /No handler is bound on this instance for local function "here-only"/,
    );
    b.bindLocalHandler({ functionId: 'here-only', handler: () => 'b' });
    expect((await b.emit(cloudEvent('user.created'), { wait: true })).outcomes?.[0]).toMatchObject({
      ok: true,
      result: 'b',
    });
  });

  test('invalid events are refused with 0.9 messages; CloudEvents 0.1 is accepted and converted', async () => {
    const { gateway } = await gatewayWith();
    const refuse = (event: unknown) => gateway.emit(event as CloudEvent).catch((e: unknown) => e);
    expect(await refuse({ specversion: '1.0', source: '/s', type: 't' })).toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
      message: `CloudEvent doesn't validate: "id" is required and must be a non-empty string.`,
    });
    expect(await refuse({ id: '1', source: '/s', type: 't' })).toBeInstanceOf(ValidationError);
    expect(
      await refuse({ specversion: '1.0', id: '1', source: '/s', type: 't', time: 'yesterday' }),
    ).toMatchObject({ message: expect.stringMatching(/"time" must be an RFC 3339/) });
    expect(
      await refuse({ specversion: '1.0', id: '1', source: '/s', type: 't', Bad_Ext: 1 }),
    ).toMatchObject({ message: expect.stringMatching(/extension attribute "Bad_Ext"/) });
    expect(
      await refuse({
        specversion: '1.0',
        id: '1',
        source: '/s',
        type: 't',
        data: 1,
        data_base64: 'AA==',
      }),
    ).toMatchObject({ message: expect.stringMatching(/exclusive/) });
    expect(await refuse('not an object')).toMatchObject({
      message: `CloudEvent doesn't validate: an event must be a JSON object.`,
    });
    expect(gateway.metrics().eventsRejected).toBe(6);

    const seen: CloudEvent[] = [];
    await gateway.registerFunction({
      functionId: 'f',
      handler: (e) => void seen.push(e as CloudEvent),
    });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'f' });
    await gateway.emit(
      {
        cloudEventsVersion: '0.1',
        eventType: 'user.created',
        eventID: 'legacy-1',
        source: '/old',
        eventTime: '2018-01-01T00:00:00Z',
        contentType: 'application/json',
        data: { a: 1 },
        extensions: { trace: { id: 'x' } },
      },
      { wait: true },
    );
    expect(seen).toEqual([
      {
        hopcount: 0,
        specversion: '1.0',
        id: 'legacy-1',
        source: '/old',
        type: 'user.created',
        time: '2018-01-01T00:00:00Z',
        datacontenttype: 'application/json',
        data: { a: 1 },
        trace: '{"id":"x"}',
      },
    ]);
  });

  test('async subscriptions match the method and path the event came with, parameters included', async () => {
    const { gateway } = await gatewayWith();
    const seen: string[] = [];
    for (const [id, path, method] of [
      ['root', '/', 'POST'],
      ['user', '/users/:id', 'GET'],
      ['any', '/users/*rest', 'GET'],
    ]) {
      await gateway.registerFunction({ functionId: id, handler: () => void seen.push(id) });
      await gateway.subscribe({ eventType: 'user.created', functionId: id, path, method });
    }
    expect((await gateway.emit(cloudEvent('user.created'), { wait: true })).accepted).toBe(1);
    expect(
      (
        await gateway.emit(cloudEvent('user.created'), {
          path: '/users/42',
          method: 'get',
          wait: true,
        })
      ).accepted,
    ).toBe(2);
    expect(
      (
        await gateway.emit(cloudEvent('user.created'), {
          path: '/users/42/posts',
          method: 'GET',
          wait: true,
        })
      ).accepted,
    ).toBe(1);
    expect(
      (
        await gateway.emit(cloudEvent('user.created'), {
          path: '/users/42',
          method: 'POST',
          wait: true,
        })
      ).accepted,
    ).toBe(0);
    expect(seen.sort()).toEqual(['any', 'any', 'root', 'user']);
  });

  test('spaces: an event emitted in one space never reaches another space', async () => {
    const { gateway } = await gatewayWith();
    const seen: string[] = [];
    for (const space of ['tenant-a', 'tenant-b']) {
      await gateway.createEventType({ space, name: 'user.created' });
      await gateway.registerFunction({
        space,
        functionId: 'f',
        handler: () => void seen.push(space),
      });
      await gateway.subscribe({ space, eventType: 'user.created', functionId: 'f' });
    }
    await gateway.emit(cloudEvent('user.created'), { space: 'tenant-a', wait: true });
    expect(seen).toEqual(['tenant-a']);
    expect((await gateway.emit(cloudEvent('user.created'), { wait: true })).accepted).toBe(0);
  });

  test('a plug-in provider validates its configuration and delivers; a type with no provider fails for good', async () => {
    const sent: unknown[] = [];
    const queue: Provider = {
      validate: (config) => {
        if (typeof config.queue !== 'string') throw new Error('"queue" must be a string');
        return { queue: config.queue };
      },
      invoke: async (fn, event) => {
        sent.push([fn.provider.queue, (event as CloudEvent).id]);
        return 'queued';
      },
    };
    const store = new MemoryStore();
    const { gateway } = await gatewayWith({ providers: { queue } }, store);
    await expect(
      gateway.registerFunction({ functionId: 'q', type: 'queue', provider: {} }),
    ).rejects.toMatchObject({
      message: `Function doesn't validate. Validation error: the "queue" provider refused its configuration: "queue" must be a string`,
    });
    await gateway.registerFunction({ functionId: 'q', type: 'queue', provider: { queue: 'jobs' } });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'q' });
    const event = cloudEvent('user.created');
    const { outcomes } = await gateway.emit(event, { wait: true });
    expect(sent).toEqual([['jobs', event.id]]);
    expect(outcomes?.[0]).toMatchObject({ ok: true, result: 'queued' });
    // Another instance on the same store, without the plug-in: its deliveries fail for good.
    const other = await gatewayWith({}, store);
    const missing = await other.gateway.emit(cloudEvent('user.created'), { wait: true });
    const outcome = missing.outcomes?.[0];
    expect(outcome).toMatchObject({ ok: false, attempts: 1 });
    expect(outcome && !outcome.ok && outcome.error.message).toMatch(
      /No provider for function type "queue" on this instance/,
    );
  });

  test('per-function retry overrides the gateway policy', async () => {
    const { gateway, deadLetters } = await gatewayWith({
      retry: { ...FAST_RETRY, maxAttempts: 5 },
    });
    let calls = 0;
    await gateway.registerFunction({
      functionId: 'once',
      handler: () => {
        calls++;
        throw new Error('no');
      },
      retry: { maxAttempts: 2 },
    });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'once' });
    await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(calls).toBe(2);
    expect(deadLetters[0]).toMatchObject({ attempts: 2 });
    await expect(
      gateway.registerFunction({ functionId: 'x', handler: () => 1, retry: { maxAttempts: 0 } }),
    ).rejects.toMatchObject({
      message: `Function doesn't validate. Validation error: "retry.maxAttempts" must be an integer from 1 to 2147483647.`,
    });
  });

  test('backpressure: when an event does not fit, emit rejects and accepts none of its deliveries', async () => {
    // Room for 3: one running, two waiting.
    const { gateway } = await gatewayWith({ queueSize: 2, concurrency: 1 });
    const held = latch();
    await gateway.registerFunction({ functionId: 'slow', handler: () => held.promise });
    await gateway.registerFunction({ functionId: 'also', handler: () => held.promise });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'slow' });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'also' });
    const first = gateway.emit(cloudEvent('user.created'), { wait: true }); // 2 deliveries
    await Promise.resolve();
    expect(gateway.metrics().deliveriesPending).toBe(2);
    // The next event needs 2 slots and 1 is left: refused whole, nothing half-accepted.
    const error = await gateway.emit(cloudEvent('user.created')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackpressureError);
    expect(error).toMatchObject({ code: 'BACKPRESSURE', status: 503 });
    expect((error as Error).message).toMatch(
      /2 deliveries needed, room for 1 .*Nothing was accepted/,
    );
    expect(gateway.metrics()).toMatchObject({
      deliveriesAccepted: 2,
      eventsRejected: 1,
      deliveriesPending: 2,
      queueDepth: 1,
    });
    held.release();
    expect((await first).outcomes?.every((o) => o.ok)).toBe(true);
    expect(gateway.metrics().deliveriesPending).toBe(0);
    expect((await gateway.emit(cloudEvent('user.created'), { wait: true })).accepted).toBe(2);
  });

  test('close() drains in-flight deliveries, then reports and dead-letters what it could not finish', async () => {
    const { gateway, deadLetters } = await gatewayWith({ drainTimeout: 100, concurrency: 2 });
    await gateway.registerFunction({
      functionId: 'quick',
      handler: () => new Promise((r) => setTimeout(() => r('done'), 30)),
    });
    await gateway.registerFunction({
      functionId: 'forever',
      handler: () => new Promise(() => undefined),
    });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'quick' });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'forever' });
    const invoked: string[] = [];
    gateway.on('function.invoked', (e) => invoked.push(e.functionId));
    const waited = gateway.emit(cloudEvent('user.created'), { wait: true });
    await new Promise((r) => setTimeout(r, 5));
    const report = await gateway.close();
    expect(invoked).toEqual(['quick']);
    expect(report.undelivered).toEqual([
      expect.objectContaining({
        functionId: 'forever',
        reason: expect.stringMatching(/the gateway closed while it was being delivered/),
      }),
    ]);
    expect(deadLetters.map((d) => d.functionId)).toEqual(['forever']);
    const { outcomes } = await waited;
    expect(outcomes?.map((o) => o.ok).sort()).toEqual([false, true]);
    await expect(gateway.emit(cloudEvent('user.created'))).rejects.toBeInstanceOf(
      GatewayClosedError,
    );
    expect(await gateway.close()).toBe(report);
  });

  test('system events: local listeners, and functions subscribed to them; none causes another', async () => {
    const { gateway } = await gatewayWith();
    const local: string[] = [];
    for (const name of [
      'event.received',
      'function.invoking',
      'function.invoked',
      'function.invocationFailed',
    ] as const) {
      gateway.on(name, () => local.push(name));
    }
    const audit: CloudEvent[] = [];
    await gateway.registerFunction({ functionId: 'worker', handler: () => 'work done' });
    await gateway.registerFunction({
      functionId: 'audit',
      handler: (e) => void audit.push(e as CloudEvent),
    });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'worker' });
    // System event types need not be created, like http.request.
    await gateway.subscribe({ eventType: 'eventgateway.function.invoked', functionId: 'audit' });
    const event = cloudEvent('user.created');
    await gateway.emit(event, { wait: true });
    await new Promise((r) => setTimeout(r, 20));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      specversion: '1.0',
      source: 'eventgateway',
      type: 'eventgateway.function.invoked',
      data: { space: 'default', functionId: 'worker', event, result: 'work done' },
    });
    // The audit delivery itself raised no system event: one of each for the worker only.
    expect(local.sort()).toEqual(['event.received', 'function.invoked', 'function.invoking']);
  });

  test('a subscription whose function this instance does not know is dead-lettered, not dropped', async () => {
    const { gateway, deadLetters, store } = await gatewayWith();
    // Written behind the gateway's back (another tool, a half-applied foreign store).
    const sub = {
      space: 'default',
      subscriptionId: 'orphan',
      type: 'async',
      eventType: 'user.created',
      functionId: 'ghost',
      path: '/',
      method: 'POST',
    };
    const written = await store.put(
      '/serverless-event-gateway/subscriptions/default/orphan',
      JSON.stringify(sub),
    );
    while (gateway.revision < written.revision) await new Promise((r) => setTimeout(r, 1));
    const { accepted, outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(accepted).toBe(1);
    expect(outcomes).toEqual([
      expect.objectContaining({ ok: false, functionId: 'ghost', attempts: 0 }),
    ]);
    expect(deadLetters).toEqual([
      expect.objectContaining({
        functionId: 'ghost',
        reason: `function "ghost" is not in this instance's configuration`,
      }),
    ]);
    expect(gateway.metrics()).toMatchObject({ deliveriesAccepted: 1, deliveriesDeadLettered: 1 });
  });

  test('a dead-letter hook that throws is reported, never swallowed', async () => {
    const { gateway } = await gatewayWith({
      onDeadLetter: () => {
        throw new Error('hook broke');
      },
    });
    const errors: Error[] = [];
    gateway.on('gateway.error', (e) => errors.push(e));
    await gateway.registerFunction({
      functionId: 'f',
      handler: () => {
        throw Object.assign(new Error('x'), { retryable: false });
      },
    });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'f' });
    await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(errors.map((e) => e.message)).toEqual(['The onDeadLetter hook failed: hook broke']);
  });

  test('metrics: a snapshot, and the same figures through prom-client', async () => {
    const { gateway } = await gatewayWith();
    await gateway.registerFunction({ functionId: 'f', handler: () => 'ok' });
    await gateway.subscribe({ eventType: 'user.created', functionId: 'f' });
    const registry = new Registry();
    const unregister = registerPrometheusMetrics(gateway, { registry, labels: { instance: 'a' } });
    for (let i = 0; i < 3; i++) await gateway.emit(cloudEvent('user.created'), { wait: true });
    const snapshot = gateway.metrics();
    expect(snapshot).toMatchObject({
      eventsReceived: 3,
      deliveriesAccepted: 3,
      deliveriesSucceeded: 3,
      deliveriesDeadLettered: 0,
      queueDepth: 0,
      deliveriesPending: 0,
    });
    expect(snapshot.attemptDuration.count).toBe(3);
    expect(snapshot.attemptDuration.buckets.at(-1)).toEqual({ le: Infinity, count: 3 });
    const text = await registry.metrics();
    expect(text).toContain('eventgateway_deliveries_succeeded_total{instance="a"} 3');
    expect(text).toContain(
      'eventgateway_attempt_duration_seconds_count{instance="a",space="default",function="f"} 3',
    );
    expect(text).toContain(
      'eventgateway_function_deliveries_total{instance="a",space="default",function="f",outcome="succeeded"} 3',
    );
    expect(gateway.functionMetrics()).toEqual([
      { space: 'default', functionId: 'f', succeeded: 3, retried: 0, deadLettered: 0 },
    ]);
    expect(text).toContain('eventgateway_queue_depth{instance="a"} 0');
    unregister();
    expect(await registry.metrics()).toBe('\n');
  });
});

describe('per-delivery caches (by function record and subscription) follow the configuration', () => {
  // A guard (passes on the cached lookups): each step changes the configuration between two emits
  // and checks that the next delivery, in this space and in the other, uses the change.
  test('a function of the same ID in another space, and a handler bound there, never reach this space', async () => {
    const { gateway } = await gatewayWith();
    const outcome = async (space: string) =>
      (await gateway.emit(cloudEvent('user.created'), { space, wait: true })).outcomes?.[0];
    for (const space of ['space-a', 'space-b']) {
      await gateway.createEventType({ space, name: 'user.created' });
      await gateway.registerFunction({ space, functionId: 'h', handler: () => space });
      await gateway.subscribe({ space, eventType: 'user.created', functionId: 'h' });
      expect(await outcome('space-a')).toMatchObject({ ok: true, result: 'space-a' });
    }
    gateway.bindLocalHandler({ space: 'space-b', functionId: 'h', handler: () => 'b again' });
    expect(await outcome('space-b')).toMatchObject({ result: 'b again' });
    expect(await outcome('space-a')).toMatchObject({ result: 'space-a' });
    // Gone from space-b (subscription, then function): space-a's deliveries are unchanged.
    const [subscription] = gateway.listSubscriptions({ space: 'space-b' });
    await gateway.unsubscribe({ space: 'space-b', subscriptionId: subscription.subscriptionId });
    await gateway.deleteFunction({ space: 'space-b', functionId: 'h' });
    expect(await outcome('space-b')).toBeUndefined();
    expect(await outcome('space-a')).toMatchObject({ result: 'space-a' });
  });
});
