// Schedules: one event per tick across a fleet (two gateways on one store, a real etcd and the
// memory store), and a tick whose claimer stops before its event is accepted is fired by another
// instance once the claim expires.
import { createGateway, MemoryStore, type Gateway, type Store } from '../../lib';
import { runnerFixture, until } from '../helpers/connection-runner';
import { storeFixture } from '../helpers/store-fixture';

jest.setTimeout(60_000);

const etcd = storeFixture('etcd');
const newRunner = runnerFixture();
const gateways: Gateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

async function gatewayOn(store: Store): Promise<Gateway> {
  const gateway = createGateway(store, { resyncInterval: 0, connections: false });
  gateways.push(gateway);
  await gateway.ready();
  return gateway;
}

/** A store whose reads answer `ms` late: the other instance wins every race for a tick. */
function slowReads(store: Store, ms: number): Store {
  return new Proxy(store, {
    get(target, name, receiver) {
      if (name === 'get') {
        // Read at once, answered late: what the reader acts on may be stale by then.
        return async (...args: Parameters<Store['get']>) => {
          const value = await target.get(...args);
          await new Promise((resolve) => setTimeout(resolve, ms));
          return value;
        };
      }
      const value = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const TICK = {
  connectionId: 'tick',
  type: 'schedule' as const,
  source: { cron: '* * * * * *' },
  eventType: 'clock.tick',
};

const TAKEOVER = '/spaces/default/connections/takeover';

/** Tick times in ms from event IDs (`tick-<ISO time>`). */
const tickTimes = (ids: string[]) => ids.map((id) => Date.parse(id.slice('tick-'.length)));

describe.each([
  ['etcd', () => [etcd.store(), etcd.store()]],
  // Reads late on both, so that the two instances' claims interleave as across processes.
  [
    'the memory store',
    () => {
      const shared = new MemoryStore();
      return [slowReads(shared, 20), slowReads(shared, 20)];
    },
  ],
] as [string, () => [Store, Store | undefined]][])('on %s', (_name, stores) => {
  test('a schedule fires once per tick across two gateways, with no tick skipped', async () => {
    const [first, second] = stores();
    const fired: { instance: string; id: string; data: unknown }[] = [];
    const instances = await Promise.all(
      ['a', 'b'].map(async (instance, i) => {
        const store = i === 0 ? first : (second ?? first);
        const gateway = await gatewayOn(store);
        newRunner(gateway, store, {
          instanceId: instance,
          entry: async (event, { space }) => {
            fired.push({ instance, id: String(event.id), data: event.data });
            return gateway.emit(event, { space });
          },
        });
        return gateway;
      }),
    );
    await instances[0].createConnection(TICK);
    await until(() => fired.length >= 5, 'five ticks', 20_000);
    // Two instances each had a timer per tick: still exactly one event per tick.
    const ids = fired.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    const times = tickTimes(ids).sort((x, y) => x - y);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(1000);
    expect(fired[0].data).toEqual({ scheduledTime: ids[0].slice('tick-'.length) });
  });
});

test('a tick claimed by an instance that never gets its event accepted is fired by another within the lease time', async () => {
  const store = etcd.store();
  const claimedByA: string[] = [];
  const firedByB: string[] = [];
  const a = await gatewayOn(store);
  newRunner(a, store, {
    instanceId: 'a',
    leaseTtl: 500,
    // Claims every tick (its reads are fast) and then hangs, as a process stopped mid-way would.
    entry: (event) => {
      // The etcd of this file keeps the other test's schedule: only this one's ticks count.
      if (event.source === TAKEOVER) claimedByA.push(String(event.id));
      return new Promise(() => undefined);
    },
  });
  const bStore = slowReads(etcd.store(), 150);
  const b = await gatewayOn(bStore);
  newRunner(b, bStore, {
    instanceId: 'b',
    leaseTtl: 500,
    entry: async (event, { space }) => {
      if (event.source === TAKEOVER) firedByB.push(String(event.id));
      return b.emit(event, { space });
    },
  });
  await a.createConnection({
    ...TICK,
    connectionId: 'takeover',
    source: { cron: '*/2 * * * * *' },
  });
  await until(
    () => claimedByA.length >= 3 && firedByB.length >= 3,
    'three taken-over ticks',
    30_000,
  );
  // Every tick A claimed and left unfinished was fired by B, once.
  for (const id of claimedByA.slice(0, 3)) expect(firedByB.filter((x) => x === id)).toHaveLength(1);
  expect(new Set(firedByB).size).toBe(firedByB.length);
});

test('a tick further away than a timer can wait (the 1st of the month after next) fires nothing now', async () => {
  const gateway = createGateway(new MemoryStore(), { resyncInterval: 0 });
  gateways.push(gateway);
  await gateway.ready();
  const fired: string[] = [];
  await gateway.registerFunction({
    functionId: 'ticker',
    handler: async (event) => void fired.push(String((event as { id: string }).id)),
  });
  await gateway.createEventType({ name: 'clock.tick' });
  await gateway.subscribe({ eventType: 'clock.tick', functionId: 'ticker' });
  // At least 29 days ahead: past the ~24.8 days a Node timer can wait.
  const month = ((new Date().getUTCMonth() + 2) % 12) + 1;
  await gateway.createConnection({ ...TICK, source: { cron: `0 0 1 ${month} *` } });
  await until(() => gateway.health().connections?.[0]?.state === 'running', 'running', 10_000);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(fired).toEqual([]);
  expect(gateway.health().connections?.[0]).toMatchObject({ accepted: 0, inFlight: 0 });
});

test('a stored schedule that ticks more often than limits.minScheduleInterval fires the first tick of each interval, and says so', async () => {
  const store = new MemoryStore();
  // Written by a gateway without the limit (or before it was set); run by one with it.
  const writer = await gatewayOn(store);
  const runner = createGateway(store, { resyncInterval: 0, limits: { minScheduleInterval: 2000 } });
  gateways.push(runner);
  await runner.ready();
  const errors: string[] = [];
  runner.on('gateway.error', (error) => errors.push(error.message));
  const fired: string[] = [];
  await runner.registerFunction({
    functionId: 'ticker',
    handler: async (event) => void fired.push(String((event as { id: string }).id)),
  });
  await writer.createEventType({ name: 'clock.tick' });
  await writer.subscribe({ eventType: 'clock.tick', functionId: 'ticker' });
  await writer.createConnection(TICK);
  await until(() => fired.length >= 3, 'three ticks', 20_000);
  // Every second, thinned to the first tick of every 2 s (the same ticks on every instance).
  const times = tickTimes(fired);
  for (const time of times) expect(time % 2000).toBe(0);
  for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(2000);
  expect(runner.health().connections?.[0]?.lastError).toMatch(
    /ticks more often than the gateway's "limits.minScheduleInterval" \(2 s\)/,
  );
  expect(errors.join('\n')).toMatch(/limits.minScheduleInterval/);
});
