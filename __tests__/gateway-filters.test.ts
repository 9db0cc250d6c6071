import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEventsHandler, MemoryStore } from '../lib';
import { subscriptionId } from '../lib/model/subscription';
import { cloudEvent } from './helpers/events';
import { dump, gatewayFixture } from './helpers/gateway';

const newGateway = gatewayFixture();

async function setup(store = new MemoryStore()) {
  const { gateway } = await newGateway(store);
  const seen: Record<string, string[]> = { big: [], fr: [], all: [] };
  for (const id of Object.keys(seen)) {
    await gateway.registerFunction({
      functionId: id,
      handler: (event) => void seen[id].push((event as { id: string }).id),
    });
  }
  await gateway.createEventType({ name: 'order.placed' });
  return { gateway, seen, store };
}

test('a filtered subscription receives only the events its pattern matches', async () => {
  const { gateway, seen } = await setup();
  await gateway.subscribe({
    eventType: 'order.placed',
    functionId: 'big',
    filter: { data: { amount: [{ numeric: ['>=', 100] }] } },
  });
  await gateway.subscribe({
    eventType: 'order.placed',
    functionId: 'fr',
    filter: { data: { country: ['FR'] }, source: [{ prefix: '/shop' }] },
  });
  await gateway.subscribe({ eventType: 'order.placed', functionId: 'all' });
  const events = [
    cloudEvent('order.placed', { amount: 150, country: 'DE' }, { id: 'a', source: '/shop' }),
    cloudEvent('order.placed', { amount: 20, country: 'FR' }, { id: 'b', source: '/shop' }),
    cloudEvent('order.placed', { amount: 20, country: 'FR' }, { id: 'c', source: '/blog' }),
  ];
  const accepted = [];
  for (const e of events) accepted.push((await gateway.emit(e, { wait: true })).accepted);
  expect(accepted).toEqual([2, 2, 1]);
  expect(seen).toEqual({ big: ['a'], fr: ['b'], all: ['a', 'b', 'c'] });
});

test('the filter is part of the identity; unfiltered IDs stay Event Gateway 0.9’s', async () => {
  const { gateway } = await setup();
  const plain = await gateway.subscribe({ eventType: 'order.placed', functionId: 'big' });
  expect(plain.subscriptionId).toBe(
    Buffer.from('async,order.placed,big,%2F,POST').toString('base64url'),
  );
  const a = await gateway.subscribe({
    eventType: 'order.placed',
    functionId: 'big',
    filter: { data: { country: ['FR'] } },
  });
  const b = await gateway.subscribe({
    eventType: 'order.placed',
    functionId: 'big',
    filter: { data: { country: ['DE'] } },
  });
  expect(new Set([plain.subscriptionId, a.subscriptionId, b.subscriptionId]).size).toBe(3);
  // Key order does not make another subscription.
  expect(
    subscriptionId({
      type: 'async',
      eventType: 'order.placed',
      functionId: 'big',
      path: '/',
      method: 'POST',
      filter: { source: ['x'], data: { country: ['FR'] } },
    }),
  ).toBe(
    subscriptionId({
      type: 'async',
      eventType: 'order.placed',
      functionId: 'big',
      path: '/',
      method: 'POST',
      filter: { data: { country: ['FR'] }, source: ['x'] },
    }),
  );
  await expect(
    gateway.subscribe({
      eventType: 'order.placed',
      functionId: 'big',
      filter: { data: { country: ['FR'] } },
    }),
  ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
});

test('an invalid filter is refused at subscribe, naming the field, and nothing is written', async () => {
  const { gateway, store } = await setup();
  const before = await dump(store);
  await expect(
    gateway.subscribe({
      eventType: 'order.placed',
      functionId: 'big',
      filter: { data: { amount: [{ numeric: ['>>', 1] }] } },
    }),
  ).rejects.toMatchObject({
    code: 'VALIDATION_FAILED',
    message: expect.stringMatching(/"filter\.data\.amount" "numeric" has/),
  });
  await expect(
    gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'big',
      filter: { type: ['x'] },
    }),
  ).rejects.toMatchObject({ message: expect.stringMatching(/async subscriptions only/) });
  const hostile = {
    get data() {
      throw new Error('no');
    },
  };
  await expect(
    gateway.subscribe({ eventType: 'order.placed', functionId: 'big', filter: hostile }),
  ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: /could not be read: no/ });
  await expect(
    gateway.subscribe({
      eventType: 'order.placed',
      functionId: 'big',
      filter: { source: [{ prefix: 'x'.repeat(100_000) }] },
    }),
  ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: /at most 16384 characters/ });
  expect(await dump(store)).toEqual(before);
});

test('the filter is stored with the subscription: another instance routes the same', async () => {
  const store = new MemoryStore();
  const first = await setup(store);
  await first.gateway.subscribe({
    eventType: 'order.placed',
    functionId: 'fr',
    filter: { data: { country: ['FR'] } },
  });
  const { gateway: other } = await newGateway(store);
  const seen: string[] = [];
  other.bindLocalHandler({
    functionId: 'fr',
    handler: (e) => void seen.push((e as { id: string }).id),
  });
  await other.emit(cloudEvent('order.placed', { country: 'DE' }, { id: 'de' }), { wait: true });
  await other.emit(cloudEvent('order.placed', { country: 'FR' }, { id: 'fr' }), { wait: true });
  expect(seen).toEqual(['fr']);
  expect(other.listSubscriptions()[0].filter).toEqual({ data: { country: ['FR'] } });
});

test('explain() lists every candidate, matched or not, and why not, delivering nothing', async () => {
  const { gateway, seen } = await setup();
  await gateway.subscribe({
    eventType: 'order.placed',
    functionId: 'big',
    filter: { source: [{ prefix: '/shop' }], data: { amount: [{ numeric: ['>=', 100] }] } },
  });
  await gateway.subscribe({ eventType: 'order.placed', functionId: 'all' });
  const explanation = gateway.explain({
    event: cloudEvent('order.placed', { amount: 5 }, { id: 'x', source: '/shop' }),
  });
  expect(explanation).toMatchObject({ eventId: 'x', space: 'default', method: 'POST', path: '/' });
  expect(explanation.subscriptions).toEqual(
    expect.arrayContaining([
      {
        subscriptionId: expect.any(String),
        functionId: 'big',
        matched: false,
        failed: { field: 'data.amount', operator: 'numeric' },
      },
      { subscriptionId: expect.any(String), functionId: 'all', matched: true },
    ]),
  );
  expect(() => gateway.explain({ event: { type: 'x' } })).toThrow(/doesn't validate/);
  await new Promise((r) => setTimeout(r, 10));
  expect(seen).toEqual({ big: [], fr: [], all: [] });
  expect(gateway.metrics().eventsReceived).toBe(0);
});

describe('wildcard event types', () => {
  test('user.* receives every user. event; * every event; system types only when named', async () => {
    const { gateway } = await newGateway();
    const seen: Record<string, string[]> = { users: [], everything: [], system: [] };
    for (const id of Object.keys(seen)) {
      await gateway.registerFunction({
        functionId: id,
        handler: (event) => void seen[id].push((event as { type: string }).type),
      });
    }
    for (const name of ['user.created', 'user.profile.updated', 'order.placed']) {
      await gateway.createEventType({ name });
    }
    await gateway.subscribe({ eventType: 'user.*', functionId: 'users' });
    await gateway.subscribe({ eventType: '*', functionId: 'everything' });
    await gateway.subscribe({ eventType: 'eventgateway.function.invoked', functionId: 'system' });
    for (const type of ['user.created', 'user.profile.updated', 'order.placed']) {
      await gateway.emit(cloudEvent(type), { wait: true });
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.users).toEqual(['user.created', 'user.profile.updated']);
    expect(seen.everything).toEqual(['user.created', 'user.profile.updated', 'order.placed']);
    // The wildcard never saw the system events the deliveries raised; the named one did.
    expect(seen.system.length).toBeGreaterThan(0);
    expect(seen.system.every((t) => t === 'eventgateway.function.invoked')).toBe(true);
    await expect(
      gateway.subscribe({ eventType: 'eventgateway.*', functionId: 'users' }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/must be named/) });
    await expect(
      gateway.subscribe({ eventType: 'us er.*', functionId: 'users' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  test('a sync wildcard subscription answers when the type has no route of its own', async () => {
    const { gateway } = await newGateway();
    await gateway.registerFunction({ functionId: 'any', handler: () => ({ body: 'wildcard' }) });
    await gateway.registerFunction({ functionId: 'own', handler: () => ({ body: 'own' }) });
    await gateway.subscribe({
      type: 'sync',
      eventType: 'http.*',
      functionId: 'any',
      path: '/a',
      method: 'GET',
    });
    await gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'own',
      path: '/b',
      method: 'GET',
    });
    const server = createServer(createEventsHandler(gateway));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/a`)).text()).toBe('wildcard');
      expect(await (await fetch(`${base}/b`)).text()).toBe('own');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
