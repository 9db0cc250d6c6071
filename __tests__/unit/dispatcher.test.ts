import { Dispatcher, type DispatcherHooks } from '../../lib/delivery/dispatcher';
import { Delivery, type DeliveryTask } from '../../lib/delivery/delivery';
import type { Provider } from '../../lib/delivery/provider';
import type { FunctionRecord } from '../../lib/model/function';

const RETRY = { maxAttempts: 3, initialDelay: 1, maxDelay: 2, maxAge: 60_000 };

function fn(id: string): FunctionRecord {
  return { space: 'default', functionId: id, type: 'test', provider: {} };
}

/** A dispatcher over a provider, counting what its hooks hear. */
function dispatcherWith(
  provider: Provider,
  options: { queueSize?: number; concurrency?: number; functionConcurrency?: number } = {},
) {
  const counts = { succeeded: 0, deadLettered: 0, retried: 0, invoking: 0 };
  const hooks: DispatcherHooks = {
    provider: () => provider,
    invoking: () => void counts.invoking++,
    localHandler: () => undefined,
    currentFunction: (task) => task.fn,
    succeeded: () => void counts.succeeded++,
    attemptFailed: (_t, _e, _a, retryIn) => void (retryIn !== undefined && counts.retried++),
    deadLettered: () => void counts.deadLettered++,
  };
  const dispatcher = new Dispatcher(
    { queueSize: 100, concurrency: 4, functionConcurrency: 2, ...options },
    hooks,
  );
  return { dispatcher, counts };
}

function task(f: FunctionRecord, timeout = 1000, n = 0): Delivery {
  return new Delivery({
    space: 'default',
    event: { specversion: '1.0', id: String(n), source: '/t', type: 't' },
    subscription: { subscriptionId: `s-${f.functionId}` } as DeliveryTask['subscription'],
    fn: f,
    retry: RETRY,
    timeout,
    system: false,
  });
}

const idle = async (dispatcher: Dispatcher) => {
  while (dispatcher.pending > 0) await new Promise((resolve) => setTimeout(resolve, 2));
};

test('accounting: every accepted delivery ends delivered or dead-lettered, exactly once', async () => {
  const behaviours: Record<string, () => unknown> = {
    value: () => 'sync value',
    promise: () => Promise.resolve('async value'),
    twice: () => ({
      then(resolve: (v: unknown) => void, reject: (e: unknown) => void) {
        resolve(1);
        reject(new Error('late'));
        resolve(2);
      },
    }),
    throwsUndefined: () => {
      throw undefined;
    },
    rejects: () => Promise.reject(new Error('no')),
    badThen: () => ({
      then() {
        throw new Error('bad then');
      },
    }),
  };
  const { dispatcher, counts } = dispatcherWith({ invoke: (f) => behaviours[f.functionId]() });
  const ids = Object.keys(behaviours);
  dispatcher.accept(Array.from({ length: 24 }, (_, i) => task(fn(ids[i % ids.length]), 1000, i)));
  await idle(dispatcher);
  // Three kinds succeed at once; three fail every one of their three attempts.
  expect(counts).toEqual({ succeeded: 12, deadLettered: 12, retried: 24, invoking: 48 });
  expect(dispatcher.pending).toBe(0);
});

test('concurrency and per-function caps hold; lanes are served in turn', async () => {
  let running = 0;
  let most = 0;
  const perFunction = new Map<string, number>();
  let mostPerFunction = 0;
  const started: string[] = [];
  const { dispatcher, counts } = dispatcherWith({
    invoke: async (f) => {
      started.push(f.functionId);
      running++;
      perFunction.set(f.functionId, (perFunction.get(f.functionId) ?? 0) + 1);
      most = Math.max(most, running);
      mostPerFunction = Math.max(mostPerFunction, perFunction.get(f.functionId) as number);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      perFunction.set(f.functionId, (perFunction.get(f.functionId) as number) - 1);
    },
  });
  const busy = fn('busy');
  const quiet = fn('quiet');
  dispatcher.accept(Array.from({ length: 10 }, (_, i) => task(busy, 1000, i)));
  dispatcher.accept([task(quiet)]);
  await idle(dispatcher);
  expect(counts.succeeded).toBe(11);
  expect(most).toBeLessThanOrEqual(4);
  expect(mostPerFunction).toBe(2);
  // The quiet function's one delivery did not wait behind the busy function's backlog.
  expect(started.indexOf('quiet')).toBeLessThan(4);
});

/** A provider whose calls stay open until released, counting those running per function. */
function heldProvider() {
  const running = new Map<string, number>();
  const releases: (() => void)[] = [];
  const provider: Provider = {
    invoke: (f) => {
      running.set(f.functionId, (running.get(f.functionId) ?? 0) + 1);
      return new Promise<void>((resolve) =>
        releases.push(() => {
          running.set(f.functionId, (running.get(f.functionId) as number) - 1);
          resolve();
        }),
      );
    },
  };
  const releaseAll = async () => {
    for (const release of releases.splice(0)) release();
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { provider, running, releaseAll };
}

test('a function alone may use every slot; a slow one never holds up the others', async () => {
  const held = heldProvider();
  const [slow, fast] = [fn('slow'), fn('fast')];
  let fastDone = 0;
  let slowBesideFast = 0;
  const { dispatcher } = dispatcherWith(
    {
      invoke: (f, event, context) => {
        if (f !== fast) return held.provider.invoke(f, event, context);
        fastDone++;
        slowBesideFast = Math.max(slowBesideFast, held.running.get('slow') ?? 0);
        return new Promise((resolve) => setTimeout(resolve, 1));
      },
    },
    { concurrency: 4, functionConcurrency: 4 },
  );
  dispatcher.accept(Array.from({ length: 4 }, (_, i) => task(slow, 10_000, i)));
  expect(held.running.get('slow')).toBe(4);
  await held.releaseAll();
  // Now both have backlogs; the slow function's calls never end, the fast one's end at once.
  dispatcher.accept(Array.from({ length: 20 }, (_, i) => task(fast, 10_000, i)));
  dispatcher.accept(Array.from({ length: 20 }, (_, i) => task(slow, 10_000, i)));
  for (let i = 0; i < 200 && fastDone < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  expect(fastDone).toBe(20);
  // While the fast function had deliveries waiting, the slow one never took more than half.
  expect(slowBesideFast).toBe(2);
  void dispatcher.close(0);
});

test('spare slots go to functions past their share when every waiting one is', async () => {
  const held = heldProvider();
  const { dispatcher } = dispatcherWith(held.provider, {
    concurrency: 5,
    functionConcurrency: 5,
  });
  const [a, b] = [fn('a'), fn('b')];
  dispatcher.accept(Array.from({ length: 8 }, (_, i) => task(a, 10_000, i)));
  dispatcher.accept(Array.from({ length: 8 }, (_, i) => task(b, 10_000, i)));
  await held.releaseAll();
  // Both wait and both are at their share (2 of 5): the fifth slot is used all the same.
  expect((held.running.get('a') ?? 0) + (held.running.get('b') ?? 0)).toBe(5);
  expect(Math.min(held.running.get('a') ?? 0, held.running.get('b') ?? 0)).toBe(2);
  while (dispatcher.pending > 0) await held.releaseAll();
});

test('backpressure is all or nothing', () => {
  const { dispatcher } = dispatcherWith(
    { invoke: () => new Promise(() => undefined) },
    { queueSize: 2, concurrency: 2 },
  );
  dispatcher.accept([task(fn('a')), task(fn('b')), task(fn('c'))]);
  expect(() => dispatcher.accept([task(fn('d')), task(fn('e'))])).toThrow(/room for 1/);
  expect(dispatcher.pending).toBe(3);
  void dispatcher.close(10);
});

test('retries then dead-letters; a timeout is a failure that is retried', async () => {
  const { dispatcher, counts } = dispatcherWith({ invoke: () => new Promise(() => undefined) });
  dispatcher.accept([task(fn('hangs'), 20)]);
  await idle(dispatcher);
  expect(counts).toMatchObject({ succeeded: 0, deadLettered: 1, retried: 2, invoking: 3 });
});

test('a delivery never starts inside another one’s provider call', async () => {
  let depth = 0;
  let nested = false;
  let spawned = 0;
  const made = dispatcherWith({
    invoke: () => {
      depth++;
      if (depth > 1) nested = true;
      if (spawned++ < 50) made.dispatcher.accept([task(fn('self'))]);
      depth--;
      return 'ok';
    },
  });
  const { dispatcher } = made;
  dispatcher.accept([task(fn('self'))]);
  await idle(dispatcher);
  expect(nested).toBe(false);
  expect(made.counts.succeeded).toBe(51);
});

test('close() dead-letters what it could not finish and reports it', async () => {
  const { dispatcher, counts } = dispatcherWith(
    { invoke: () => new Promise(() => undefined) },
    { concurrency: 1 },
  );
  dispatcher.accept([task(fn('a')), task(fn('a')), task(fn('a'))]);
  const undelivered = await dispatcher.close(10);
  expect(undelivered).toHaveLength(3);
  expect(counts.deadLettered).toBe(3);
  expect(() => dispatcher.accept([task(fn('a'))])).toThrow(/closing/);
});

test('an answer that arrives after the timeout is ignored: the attempt already failed', async () => {
  const { dispatcher, counts } = dispatcherWith({
    invoke: () => new Promise((resolve) => setTimeout(() => resolve('late'), 40)),
  });
  dispatcher.accept([task(fn('slow'), 10)]);
  await idle(dispatcher);
  await new Promise((resolve) => setTimeout(resolve, 60));
  expect(counts).toMatchObject({ succeeded: 0, deadLettered: 1, invoking: 3 });
});
