import { inspect } from 'node:util';
import {
  CommitUnknownError,
  createGateway,
  GatewayClosedError,
  GatewayNotReadyError,
  MemoryStore,
  type ConfigChange,
} from '../../lib';
import { dump, gatewayFixture } from '../helpers/gateway';
import { expectNoDanglingSubscriptions } from '../helpers/integrity';
import { UnreliableStore } from '../helpers/unreliable-store';
import { waitUntil } from '../../lib/testing';

const setup = gatewayFixture();

/** A small deterministic PRNG so that a failing interleaving can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const yieldRandomly = async (random: () => number) => {
  const hops = Math.floor(random() * 4);
  for (let i = 0; i < hops; i++) await new Promise((r) => setImmediate(r));
};

describe('several gateways over one store', () => {
  test("each sees the others' writes", async () => {
    const store = new MemoryStore();
    const { gateway: a } = await setup(store);
    const { gateway: b } = await setup(store);
    const seenByB: ConfigChange[] = [];
    b.on('config.changed', (changes) => seenByB.push(...changes));
    await a.registerFunction({
      functionId: 'f',
      type: 'http',
      provider: { url: 'http://localhost:1/' },
    });
    await a.createEventType({ name: 'e' });
    const sub = await a.subscribe({ eventType: 'e', functionId: 'f' });
    await waitUntil(() => b.revision >= a.revision);
    expect(b.getSubscription({ subscriptionId: sub.subscriptionId })).toEqual(sub);
    expect(seenByB.map((c) => `${c.resource}:${c.id}`)).toEqual([
      'function:f',
      'eventType:e',
      `subscription:${sub.subscriptionId}`,
    ]);
    await b.unsubscribe({ subscriptionId: sub.subscriptionId });
    await waitUntil(() => a.revision >= b.revision);
    expect(a.listSubscriptions()).toEqual([]);
  });

  test('read-your-writes: a write resolves only once this instance can read it', async () => {
    const store = new MemoryStore();
    const { gateway } = await setup(store);
    store.suspendWatches();
    let resolved = false;
    const write = gateway.createEventType({ name: 'e' }).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(resolved).toBe(false); // committed, but not yet applied by this instance's cache
    expect(await store.get('/serverless-event-gateway/eventtypes/default/e')).toBeDefined();
    store.resumeWatches();
    await write;
    expect(gateway.getEventType({ name: 'e' }).name).toBe('e');
  });

  test('a write whose cache cannot catch up fails with CommitUnknownError (never STORE_UNAVAILABLE) saying it was applied', async () => {
    const store = new MemoryStore();
    const { gateway } = await setup(store, { consistencyTimeout: 30 });
    store.suspendWatches();
    const error = await gateway.createEventType({ name: 'e' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitUnknownError);
    expect(error).toMatchObject({ code: 'COMMIT_UNKNOWN', status: 504 });
    expect((error as Error).message).toMatch(
      /^The write was applied at revision \d+, but this instance's cache has not reached/,
    );
    store.resumeWatches();
    await waitUntil(() => gateway.listEventTypes().length === 1);
  });

  test('after a watch reset an instance relists and applies the deletes it missed', async () => {
    const store = new MemoryStore();
    const { gateway: a } = await setup(store);
    await a.registerFunction({ functionId: 'f1', handler: () => 1 });
    await a.registerFunction({ functionId: 'f2', handler: () => 1 });
    await a.createEventType({ name: 'e' });
    const { gateway: b } = await setup(store);
    expect(b.listFunctions()).toHaveLength(2);
    const resyncs: string[] = [];
    b.on('store.resync', (reason) => resyncs.push(reason));
    const changes: ConfigChange[] = [];
    b.on('config.changed', (c) => changes.push(...c));

    store.suspendWatches();
    const write = Promise.all([
      a.deleteFunction({ functionId: 'f1' }),
      a.deleteEventType({ name: 'e' }),
    ]);
    await new Promise((r) => setTimeout(r, 10));
    store.compact();
    store.resumeWatches();
    await write;
    await waitUntil(() => b.revision === store.revision);
    expect(b.listFunctions().map((f) => f.functionId)).toEqual(['f2']);
    expect(b.listEventTypes()).toEqual([]);
    expect(resyncs).toEqual([expect.stringMatching(/^watch reset/)]);
    expect(
      changes.map((c) => `${c.record ? 'put' : 'delete'} ${c.resource}:${c.id}`).sort(),
    ).toEqual(['delete eventType:e', 'delete function:f1']);
  });

  test('subscribe racing deleteFunction from two instances never leaves a dangling subscription', async () => {
    const store = new MemoryStore();
    const { gateway: a } = await setup(store);
    const { gateway: b } = await setup(store);
    await a.createEventType({ name: 'e' });
    const random = prng(42);
    const outcomes = { subscribed: 0, deleted: 0 };
    for (let round = 0; round < 60; round++) {
      const functionId = `f${round}`;
      await a.registerFunction({
        functionId,
        type: 'http',
        provider: { url: 'http://localhost:1/' },
      });
      await waitUntil(() => b.revision >= a.revision);
      const subscribe = async () => {
        await yieldRandomly(random);
        return a.subscribe({ eventType: 'e', functionId });
      };
      const remove = async () => {
        await yieldRandomly(random);
        return b.deleteFunction({ functionId });
      };
      let s: Promise<unknown>;
      let d: Promise<unknown>;
      if (random() < 0.5) {
        s = subscribe();
        d = remove();
      } else {
        d = remove();
        s = subscribe();
      }
      const [sr, dr] = await Promise.allSettled([s, d]);
      const results = [sr, dr].map((r) => r.status);
      // Exactly one of the two wins; the loser fails with the error the final state calls for.
      expect(results.sort()).toEqual(['fulfilled', 'rejected']);
      const loser = [sr, dr].find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(loser.reason).toMatchObject({ code: 'CONFLICT' });
      expect(['missing-reference', 'in-use']).toContain(loser.reason.reason);
      if (loser.reason.reason === 'in-use') outcomes.subscribed++;
      else outcomes.deleted++;
    }
    // Both orders happened, so the race was real.
    expect(outcomes.subscribed).toBeGreaterThan(0);
    expect(outcomes.deleted).toBeGreaterThan(0);
    expectNoDanglingSubscriptions(await dump(store));
  });

  test('conflicting sync routes written concurrently by two instances: exactly one wins', async () => {
    const store = new MemoryStore();
    const { gateway: a } = await setup(store);
    const { gateway: b } = await setup(store);
    await a.registerFunction({
      functionId: 'f',
      type: 'http',
      provider: { url: 'http://localhost:1/' },
    });
    await waitUntil(() => b.revision >= a.revision);
    const results = await Promise.allSettled([
      a.subscribe({
        type: 'sync',
        eventType: 'http.request',
        functionId: 'f',
        method: 'GET',
        path: '/users/:id',
      }),
      b.subscribe({
        type: 'sync',
        eventType: 'http.request',
        functionId: 'f',
        method: 'GET',
        path: '/users/:name',
      }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(loser.reason).toMatchObject({ code: 'CONFLICT', reason: 'path-conflict' });
    const stored = Object.keys(await dump(store)).filter((k) => k.includes('/subscriptions/'));
    expect(stored).toHaveLength(1);
  });

  test('an authorizer being attached while its function is deleted: never dangling', async () => {
    const store = new MemoryStore();
    const { gateway: a } = await setup(store);
    const { gateway: b } = await setup(store);
    await a.createEventType({ name: 'e' });
    await a.registerFunction({
      functionId: 'auth',
      type: 'http',
      provider: { url: 'http://localhost:1/' },
    });
    await waitUntil(() => b.revision >= a.revision);
    const results = await Promise.allSettled([
      a.updateEventType({ name: 'e', authorizerId: 'auth' }),
      b.deleteFunction({ functionId: 'auth' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const stored = await dump(store);
    const eventType = JSON.parse(stored['/serverless-event-gateway/eventtypes/default/e']);
    const authExists = '/serverless-event-gateway/functions/default/auth' in stored;
    expect(eventType.authorizerId === undefined || authExists).toBe(true);
  });

  test('a write refused by concurrent changes more often than allowed fails with contention and changes nothing', async () => {
    const store = new MemoryStore();
    const slow = new UnreliableStore(store);
    slow.txnDelayMs = 20;
    const a = createGateway(slow, { resyncInterval: 0, maxWriteAttempts: 1 });
    const { gateway: b } = await setup(store);
    await a.ready();
    await b.registerFunction({
      functionId: 'f',
      type: 'http',
      provider: { url: 'http://localhost:1/' },
    });
    await b.registerFunction({
      functionId: 'g',
      type: 'http',
      provider: { url: 'http://localhost:1/' },
    });
    await waitUntil(() => a.revision >= b.revision);
    // a plans its delete, then b subscribes while a's transaction is on its way.
    const deleting = a.deleteFunction({ functionId: 'f' }).catch((e: unknown) => e);
    await b.subscribe({ eventType: 'http.request', functionId: 'g' });
    expect(await deleting).toMatchObject({ code: 'CONFLICT', reason: 'contention' });
    expect(await store.get('/serverless-event-gateway/functions/default/f')).toBeDefined();
    // With the default attempts the same race resolves by planning again.
    const c = createGateway(slow, { resyncInterval: 0 });
    await c.ready();
    const retried = c.deleteFunction({ functionId: 'f' });
    await b.subscribe({ eventType: 'http.request', functionId: 'g', path: '/other' });
    await expect(retried).resolves.toBeUndefined();
    await Promise.all([a.close(), c.close()]);
  });
});

describe('lifecycle', () => {
  test('reads before ready throw GatewayNotReadyError; after close GatewayClosedError; close is idempotent', async () => {
    const gateway = createGateway(new MemoryStore());
    expect(() => gateway.listFunctions()).toThrow(GatewayNotReadyError);
    await gateway.ready();
    expect(gateway.listFunctions()).toEqual([]);
    await gateway.close();
    await gateway.close();
    expect(() => gateway.listFunctions()).toThrow(GatewayClosedError);
    await expect(
      gateway.registerFunction({ functionId: 'f', handler: () => 1 }),
    ).rejects.toBeInstanceOf(GatewayClosedError);
    await expect(gateway.ready()).rejects.toBeInstanceOf(GatewayClosedError);
  });

  test('writes issued before ready wait for the configuration to load', async () => {
    const store = new MemoryStore();
    await store.put(
      '/serverless-event-gateway/functions/default/f',
      JSON.stringify({
        space: 'default',
        functionId: 'f',
        type: 'http',
        provider: { url: 'http://x/' },
      }),
    );
    const gateway = createGateway(store, { resyncInterval: 0 });
    await expect(
      gateway.registerFunction({ functionId: 'f', handler: () => 1 }),
    ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await gateway.close();
  });

  test('createGateway() without a store owns a MemoryStore and closes it', async () => {
    const gateway = createGateway();
    await gateway.ready();
    expect(gateway.store).toBeInstanceOf(MemoryStore);
    await gateway.close();
    await expect(gateway.store.get('/x')).rejects.toBeInstanceOf(GatewayClosedError);
  });

  test('a shared store stays open when a gateway closes', async () => {
    const store = new MemoryStore();
    const gateway = createGateway(store);
    await gateway.ready();
    await gateway.close();
    await expect(store.get('/x')).resolves.toBeUndefined();
  });

  test('invalid options are ValidationErrors', () => {
    expect(() => createGateway(undefined, { space: 'x' })).toThrow(/option "space"/);
    expect(() => createGateway(undefined, { prefix: 'relative' })).toThrow(/option "prefix"/);
    expect(() => createGateway(undefined, { consistencyTimeout: 0 })).toThrow(
      /option "consistencyTimeout"/,
    );
  });

  test('the space option is the default space of every method', async () => {
    const { gateway } = await setup(new MemoryStore(), { space: 'tenant' });
    await gateway.registerFunction({ functionId: 'f', handler: () => 1 });
    expect(gateway.getFunction({ functionId: 'f' }).space).toBe('tenant');
    expect(gateway.listFunctions({ space: 'default' })).toEqual([]);
  });

  test('a stored value that cannot be used is reported and left out, never applied silently', async () => {
    const store = new MemoryStore();
    const { gateway } = await setup(store);
    const invalid: string[] = [];
    gateway.on('config.invalid', (item) => invalid.push(`${item.key}: ${item.reason}`));
    await store.put('/serverless-event-gateway/functions/default/broken', '{not json');
    await store.put(
      '/serverless-event-gateway/functions/default/wrong',
      '{"functionId":"other","type":"http"}',
    );
    await waitUntil(() => invalid.length === 2);
    expect(invalid).toEqual([
      expect.stringMatching(/functions\/default\/broken: not JSON/),
      '/serverless-event-gateway/functions/default/wrong: "functionId" does not match the key',
    ]);
    expect(gateway.listFunctions()).toEqual([]);
  });

  test('loads a store written by Event Gateway 0.9 as it is', async () => {
    const store = new MemoryStore();
    const root = '/serverless-event-gateway';
    await store.put(
      `${root}/functions/default/test`,
      '{"space":"default","functionId":"test","type":"http","provider":{"url":"http://localhost:8080/"}}',
    );
    await store.put(
      `${root}/eventtypes/default/test.event`,
      '{"space":"default","name":"test.event"}',
    );
    await store.put(
      `${root}/subscriptions/default/YXN5bmMsdGVzdC5ldmVudCx0ZXN0LCUyRixQT1NU`,
      '{"space":"default","subscriptionId":"YXN5bmMsdGVzdC5ldmVudCx0ZXN0LCUyRixQT1NU","type":"async","eventType":"test.event","functionId":"test","path":"/","method":"POST"}',
    );
    const { gateway } = await setup(store);
    expect(gateway.listSubscriptions()).toHaveLength(1);
    await expect(gateway.deleteFunction({ functionId: 'test' })).rejects.toMatchObject({
      reason: 'in-use',
    });
  });

  test('the REPL sees a summary of a gateway, not its internals', async () => {
    const { gateway } = await setup();
    await gateway.registerFunction({ functionId: 'f', handler: () => 1 });
    expect(inspect(gateway)).toBe(
      `Gateway { space: 'default', store: MemoryStore, ready, revision: 2, eventTypes: 0, functions: 1, subscriptions: 0, cors: 0 }`,
    );
    expect(inspect(gateway.store)).toBe('MemoryStore { revision: 2, keys: 1 }');
  });
});
