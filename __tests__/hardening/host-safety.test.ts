import {
  createEventsHandler,
  createGateway,
  EtcdStore,
  EventsApi,
  expressMiddleware,
  GatewayError,
  HttpProvider,
  koaMiddleware,
  MemoryStore,
  registerPrometheusMetrics,
  type CloudEvent,
  type Gateway,
} from '../../lib';
import { deliveryGateways } from '../helpers/delivery-gateway';
import { cloudEvent } from '../helpers/events';

const newGateway = deliveryGateways({ initialDelay: 1, maxDelay: 2, maxAttempts: 2 });
// An unhandled rejection fails the test that caused it (jest's own check); the child-process test
// in host-process.test.ts proves the same in a real process with Node's default handling.
const settle = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

/** Subscribes a function, creating the event type first when needed. */
async function subscribe(gateway: Gateway, eventType: string, functionId: string) {
  await gateway.createEventType({ name: eventType }).catch(() => undefined);
  await gateway.subscribe({ eventType, functionId });
}

async function withFunction(handler: (event: unknown) => unknown, options = {}) {
  const fixture = await newGateway(options);
  await fixture.gateway.registerFunction({ functionId: 'f', handler });
  await subscribe(fixture.gateway, 'user.created', 'f');
  return fixture;
}

/** Values a handler can throw that break naive error handling. */
function hostileThrowables(): [string, () => unknown][] {
  const getterThrows = new Error('x');
  Object.defineProperty(getterThrows, 'message', {
    get() {
      throw new Error('the message getter threw');
    },
  });
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  return [
    ['Object.create(null)', () => Object.create(null)],
    ['an error whose message getter throws', () => getterThrows],
    ['undefined', () => undefined],
    ['null', () => null],
    ['a symbol', () => Symbol('s')],
    ['a revoked proxy', () => revoked.proxy],
    ['a function', () => () => 1],
  ];
}

describe('nothing a handler throws crashes the host or breaks the accounting', () => {
  test.each(hostileThrowables())(
    'a local handler that throws %s: dead-lettered, invoke rejects',
    async (_name, make) => {
      const { gateway, deadLetters } = await withFunction(() => {
        throw make();
      });
      const { outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
      expect(outcomes).toEqual([expect.objectContaining({ ok: false, attempts: 2 })]);
      expect(deadLetters).toHaveLength(1);
      expect(typeof deadLetters[0].reason).toBe('string');
      await expect(gateway.invoke({ functionId: 'f' })).rejects.toMatchObject({
        code: 'INVOCATION_FAILED',
      });
    },
  );

  test.each(hostileThrowables())(
    'a local handler that rejects with %s: dead-lettered, invoke rejects',
    async (_name, make) => {
      const { gateway, deadLetters } = await withFunction(() => Promise.reject(make()));
      const { outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
      expect(outcomes).toEqual([expect.objectContaining({ ok: false })]);
      expect(deadLetters).toHaveLength(1);
      await expect(gateway.invoke({ functionId: 'f' })).rejects.toBeInstanceOf(GatewayError);
      await settle();
    },
  );

  test('a synchronous `throw undefined` is a failure, not a success', async () => {
    const { gateway, deadLetters } = await withFunction(() => {
      throw undefined;
    });
    const { outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(outcomes?.[0].ok).toBe(false);
    expect(deadLetters).toHaveLength(1);
    expect(gateway.metrics()).toMatchObject({ deliveriesSucceeded: 0, deliveriesDeadLettered: 1 });
  });

  test('a thenable whose `then` throws fails its delivery; emit resolves and nothing leaks', async () => {
    const { gateway, deadLetters } = await withFunction(() => ({
      then() {
        throw new Error('then threw');
      },
    }));
    const result = await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(result.accepted).toBe(1);
    expect(result.outcomes?.[0]).toMatchObject({ ok: false });
    expect(deadLetters).toHaveLength(1);
    const m = gateway.metrics();
    expect(m.deliveriesAccepted).toBe(m.deliveriesSucceeded + m.deliveriesDeadLettered);
    expect(m.deliveriesPending).toBe(0);
  });

  test('a thenable that answers twice, or both ways, counts once', async () => {
    const { gateway } = await withFunction(() => ({
      then(resolve: (v: unknown) => void, reject: (e: unknown) => void) {
        resolve(1);
        reject(new Error('late'));
        resolve(2);
      },
    }));
    const { outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(outcomes).toEqual([expect.objectContaining({ ok: true, result: 1 })]);
    expect(gateway.metrics()).toMatchObject({ deliveriesAccepted: 1, deliveriesSucceeded: 1 });
  });
});

describe('listeners are isolated', () => {
  test('a gateway.on listener that throws or rejects goes to gateway.error; deliveries go on', async () => {
    const { gateway } = await withFunction(() => 'ok');
    const errors: Error[] = [];
    gateway.on('gateway.error', (error) => errors.push(error));
    gateway.on('function.invoked', () => {
      throw new Error('listener bug');
    });
    gateway.on('event.received', async () => {
      throw Object.create(null);
    });
    const seen: unknown[] = [];
    gateway.on('function.invoked', ({ result }) => seen.push(result));
    const { outcomes } = await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(outcomes?.[0].ok).toBe(true);
    await settle();
    expect(seen).toEqual(['ok']);
    expect(errors.map((e) => e.message).sort()).toEqual([
      'A "event.received" listener failed: [object Object]',
      'A "function.invoked" listener failed: listener bug',
    ]);
  });

  test('off() removes a listener added with on() or once()', async () => {
    const { gateway } = await withFunction(() => 'ok');
    const calls: string[] = [];
    const a = () => calls.push('a');
    const b = () => calls.push('b');
    gateway.on('function.invoked', a);
    gateway.once('function.invoked', b);
    gateway.off('function.invoked', a);
    gateway.off('function.invoked', b);
    await gateway.emit(cloudEvent('user.created'), { wait: true });
    expect(calls).toEqual([]);
  });
});

describe('what a function receives is the event as accepted', () => {
  test('handlers share a frozen copy: a mutation fails that handler and reaches no other', async () => {
    const { gateway } = await newGateway();
    const seen: unknown[] = [];
    await gateway.registerFunction({
      functionId: 'mutator',
      handler: (event) => {
        (event as { data: { amount: number } }).data.amount = 0;
      },
      retry: { maxAttempts: 1 },
    });
    await gateway.registerFunction({
      functionId: 'reader',
      handler: (event) => seen.push((event as CloudEvent).data),
    });
    await subscribe(gateway, 'pay', 'mutator');
    await subscribe(gateway, 'pay', 'reader');
    const { outcomes } = await gateway.emit(cloudEvent('pay', { amount: 10 }), { wait: true });
    expect(outcomes?.map((o) => o.ok).sort()).toEqual([false, true]);
    expect(seen).toEqual([{ amount: 10 }]);
  });

  test("the caller's changes after emit never reach queued deliveries", async () => {
    const { gateway } = await newGateway({ concurrency: 1, functionConcurrency: 1 });
    const seen: unknown[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await gateway.registerFunction({
      functionId: 'slow',
      handler: async (event) => {
        await gate;
        seen.push(structuredClone(event));
      },
    });
    await subscribe(gateway, 'pay', 'slow');
    const event = { specversion: '1.0', id: '1', source: '/s', type: 'pay', data: { amount: 10 } };
    await gateway.emit(event);
    event.id = '2';
    await gateway.emit(event);
    event.data.amount = 0;
    event.id = '3';
    release();
    await gateway.close();
    expect(seen).toEqual([
      expect.objectContaining({ id: '1', data: { amount: 10 } }),
      expect.objectContaining({ id: '2', data: { amount: 10 } }),
    ]);
  });

  test('data JSON cannot carry is refused at intake, not lost on the way', async () => {
    const { gateway } = await newGateway({ maxDataDepth: 8 });
    const bad: [unknown, RegExp][] = [
      [{ f: () => 1 }, /"data\.f" is a function/],
      [{ n: 10n }, /"data\.n" is a bigint/],
      [{ x: NaN }, /"data\.x" is NaN/],
      [{ m: new Map() }, /"data\.m" is a Map/],
      [JSON.parse('['.repeat(20) + ']'.repeat(20)), /nests deeper than 8 levels/],
    ];
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    bad.push([cyclic, /nests deeper than 8 levels/]);
    for (const [data, message] of bad) {
      await expect(gateway.emit(cloudEvent('pay', data))).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        message: expect.stringMatching(message),
      });
    }
    // JSON's own rules still apply: toJSON is used and undefined properties are left out.
    await gateway.registerFunction({ functionId: 'r', handler: (e) => (e as CloudEvent).data });
    await subscribe(gateway, 'pay', 'r');
    const when = new Date(0);
    const { outcomes } = await gateway.emit(cloudEvent('pay', { when, gone: undefined }), {
      wait: true,
    });
    expect(outcomes?.[0]).toMatchObject({ ok: true, result: { when: when.toISOString() } });
  });
});

describe('a loop of local handlers cannot freeze the host', () => {
  test('two handlers emitting each other’s events: timers keep firing during the loop', async () => {
    const { gateway } = await newGateway({ queueSize: 100_000 });
    let hops = 0;
    const ping = (type: string) => async () => {
      hops++;
      await gateway.emit(cloudEvent(type)).catch(() => undefined);
    };
    await gateway.registerFunction({ functionId: 'a', handler: ping('b.happened') });
    await gateway.registerFunction({ functionId: 'b', handler: ping('a.happened') });
    await subscribe(gateway, 'a.happened', 'a');
    await subscribe(gateway, 'b.happened', 'b');
    const fired = new Promise<number>((resolve) => setTimeout(() => resolve(hops), 200));
    await gateway.emit(cloudEvent('a.happened'));
    // Without yielding, the timer would not fire while the loop runs (it never ends on its own).
    const hopsWhenFired = await fired;
    expect(hopsWhenFired).toBeGreaterThan(0);
    const report = await gateway.close();
    expect(Array.isArray(report.undelivered)).toBe(true);
  });

  test('a synchronous handler that emits does not recurse on the stack', async () => {
    const { gateway } = await newGateway({ queueSize: 100_000 });
    let count = 0;
    await gateway.registerFunction({
      functionId: 'chain',
      handler: () => {
        if (++count < 20_000) void gateway.emit(cloudEvent('step'));
      },
    });
    await subscribe(gateway, 'step', 'chain');
    await gateway.emit(cloudEvent('step'));
    while (count < 20_000) await settle(5);
    expect(count).toBe(20_000);
  });
});

test('a provider whose close() throws does not keep the gateway from closing', async () => {
  const { gateway } = await newGateway({
    providers: {
      custom: {
        invoke: () => 'ok',
        close: () => {
          throw new Error('close failed');
        },
      },
    },
  });
  const errors: string[] = [];
  gateway.on('gateway.error', (error) => errors.push(error.message));
  await expect(gateway.close()).resolves.toEqual({ undelivered: [] });
  expect(errors).toEqual(['A provider failed to close: close failed']);
});

describe('misuse gets a clear error, never a hang', () => {
  test('options passed where the store belongs', () => {
    expect(() => createGateway({ retry: { maxAttempts: 2 } } as never)).toThrow(
      /first argument must be a Store.*it looks like options: pass them second/,
    );
    expect(() => createGateway('memory' as never)).toThrow(TypeError);
    expect(() => createGateway(new MemoryStore(), { retries: 3 } as never)).toThrow(
      /unknown option "retries"/,
    );
    expect(() => createGateway(new MemoryStore(), 5 as never)).toThrow(/options must be an object/);
  });

  test('every factory checks its arguments', () => {
    expect(() => new MemoryStore('big' as never)).toThrow(
      /new MemoryStore\(options\): options must be an object/,
    );
    expect(() => new HttpProvider(null as never)).toThrow(/options must be an object/);
    expect(() => new EventsApi(undefined as never)).toThrow(/first argument must be a gateway/);
    expect(() => createEventsHandler({ retry: {} } as never)).toThrow(
      /first argument must be a gateway/,
    );
    expect(() => expressMiddleware('gateway' as never)).toThrow(TypeError);
    expect(() => koaMiddleware(null as never)).toThrow(TypeError);
    expect(() => registerPrometheusMetrics({} as never)).toThrow(
      /first argument must be a gateway/,
    );
    expect(() => new EtcdStore({ hosts: 'http://127.0.0.1:1', requestTimeout: 2 ** 31 })).toThrow(
      /at most 2147483647/,
    );
  });

  test('the new options refuse impossible values', () => {
    const store = new MemoryStore();
    expect(() => createGateway(store, { maxResponseBytes: 0 })).toThrow(
      /"maxResponseBytes" must be a positive integer/,
    );
    expect(() => createGateway(store, { maxDataDepth: 1.5 })).toThrow(/"maxDataDepth"/);
    expect(() => createGateway(store, { readyTimeout: -1 })).toThrow(/"readyTimeout"/);
    expect(() => createGateway(store, { outbound: { allow: ['not a host!'] } })).toThrow(
      /neither a host name/,
    );
    expect(() => createGateway(store, { outbound: { deny: '10.0.0.0/8' as never } })).toThrow(
      /must be an array/,
    );
    expect(() => createGateway(store, { outbound: { deny: ['10.0.0.0/33'] } })).toThrow(
      /invalid prefix length/,
    );
    expect(() => createGateway(store, { outbound: { credentials: 'drop' as never } })).toThrow(
      /'send' or 'refuse'/,
    );
  });

  test('the Events API refuses an impossible batch bound', async () => {
    const { gateway } = await newGateway();
    expect(() => new EventsApi(gateway, { maxBatchSize: 0 })).toThrow(/"maxBatchSize"/);
  });

  test('timeouts a timer cannot hold are refused', () => {
    for (const options of [
      { timeout: 2 ** 31 },
      { drainTimeout: 2 ** 31 },
      { retry: { maxDelay: 2 ** 32 } },
    ]) {
      expect(() => createGateway(new MemoryStore(), options)).toThrow(/2147483647/);
    }
  });

  test('ready() and writes on a store that never answers reject after readyTimeout with the last error', async () => {
    const store = new MemoryStore();
    const silent = Object.assign(Object.create(store) as MemoryStore, {
      list: () => Promise.reject(new Error('connection refused (test)')),
    });
    const gateway: Gateway = createGateway(silent, { readyTimeout: 300, resyncInterval: 0 });
    try {
      await expect(gateway.ready()).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
        message: expect.stringMatching(
          /within 300 ms; the last store error: .*connection refused \(test\)/,
        ),
      });
      await expect(gateway.createEventType({ name: 'x.y' })).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
    } finally {
      await gateway.close();
    }
  });
});

test('data that cannot even be inspected (a revoked proxy) is refused with a ValidationError', async () => {
  const { gateway } = await newGateway();
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  for (const data of [revoked.proxy, { nested: revoked.proxy }, [revoked.proxy]]) {
    await expect(gateway.emit(cloudEvent('any.thing', data))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/could not be read/),
    });
  }
});
