import { createGateway, StoreUnavailableError, type Gateway } from '../../lib';
import { etcdFixture } from './etcd-fixture';

const fx = etcdFixture();
let n = 0;

async function gatewayOn(store: Gateway['store']) {
  const gateway = createGateway(store, { resyncInterval: 0, prefix: `/gw-${process.pid}-${++n}` });
  fx.later(() => gateway.close());
  await gateway.ready();
  return gateway;
}

test('two gateways over etcd: writes propagate, read-your-writes holds, integrity is enforced', async () => {
  const a = await gatewayOn(fx.store());
  const b = createGateway(fx.store(), { resyncInterval: 0, prefix: a.options.prefix });
  fx.later(() => b.close());
  await b.ready();
  await a.registerFunction({
    functionId: 'f',
    type: 'http',
    provider: { url: 'http://127.0.0.1:1/' },
  });
  expect(a.getFunction({ functionId: 'f' }).functionId).toBe('f'); // at once, on the writer
  await a.createEventType({ name: 'e' });
  while (b.revision < a.revision) await new Promise((r) => setTimeout(r, 10)); // eventual consistency
  const sub = await b.subscribe({ eventType: 'e', functionId: 'f' });
  while (a.revision < b.revision) await new Promise((r) => setTimeout(r, 10));
  expect(a.getSubscription({ subscriptionId: sub.subscriptionId })).toEqual(sub);
  await expect(a.deleteFunction({ functionId: 'f' })).rejects.toMatchObject({
    code: 'CONFLICT',
    reason: 'in-use',
  });
});

test('while etcd is unreachable: routing goes on from the cache, writes fail fast, health says so; then it catches up', async () => {
  const { proxy, store } = await fx.proxied({ requestTimeout: 800, watchCheckInterval: 200 });
  const gateway = await gatewayOn(store);
  const writer = await gatewayOn(fx.store());
  const writerFor = createGateway(writer.store, {
    resyncInterval: 0,
    prefix: gateway.options.prefix,
  });
  fx.later(() => writerFor.close());
  await writerFor.ready();
  const seen: string[] = [];
  await gateway.registerFunction({
    functionId: 'f',
    handler: (e) => void seen.push((e as { id: string }).id),
  });
  await gateway.createEventType({ name: 'e' });
  await gateway.subscribe({ eventType: 'e', functionId: 'f' });
  expect(gateway.health()).toMatchObject({ ready: true, watching: true, store: 'EtcdStore' });

  proxy.block();
  const event = (id: string) => ({ specversion: '1.0', id, source: '/t', type: 'e' });
  expect((await gateway.emit(event('while-down'), { wait: true })).outcomes?.[0]).toMatchObject({
    ok: true,
  });
  expect(seen).toEqual(['while-down']);
  await expect(gateway.createEventType({ name: 'other' })).rejects.toBeInstanceOf(
    StoreUnavailableError,
  );
  while (gateway.health().watching) await new Promise((r) => setTimeout(r, 20));
  const down = gateway.health();
  expect(down).toMatchObject({ ready: true, watching: false, lastError: expect.any(String) });

  // Meanwhile another instance changes the configuration.
  await writerFor.registerFunction({
    functionId: 'g',
    type: 'http',
    provider: { url: 'http://127.0.0.1:1/' },
  });
  proxy.unblock();
  while (!gateway.listFunctions().some((f) => f.functionId === 'g'))
    await new Promise((r) => setTimeout(r, 20));
  expect(gateway.health()).toMatchObject({ watching: true, resyncs: expect.any(Number) });
  expect(gateway.health().lastError).toBeUndefined();
  expect(gateway.configSnapshot()).toEqual(writerFor.configSnapshot());
});
