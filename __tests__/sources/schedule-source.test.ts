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

/**
 * A store whose calls wait while `frozen.now` is set, as a stopped process's would (SIGSTOP):
 * they go on once `thaw()` is called.
 */
function freezable(store: Store) {
  let thawed: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (thawed = resolve));
  const frozen = { now: false };
  const proxy = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (frozen.now) await gate;
        return value.apply(target, args);
      };
    },
  });
  const thaw = () => {
    frozen.now = false;
    thawed();
  };
  return { store: proxy, frozen, thaw };
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

test('a tick claimed by an instance that stops before its event is accepted is fired by another within the lease time', async () => {
  const { store, frozen, thaw } = freezable(etcd.store());
  const claimedByA: string[] = [];
  const firedByB: string[] = [];
  const a = await gatewayOn(etcd.store());
  newRunner(a, store, {
    instanceId: 'a',
    leaseTtl: 500,
    // Claims a tick (its reads are fast) and then stops, as a process stopped mid-way would: its
    // event is never accepted and its store writes (the claim's renewals) never land.
    entry: (event) => {
      // The etcd of this file keeps the other test's schedule: only this one's ticks count.
      if (event.source === TAKEOVER) {
        claimedByA.push(String(event.id));
        frozen.now = true;
      }
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
  await until(() => claimedByA.length >= 1 && firedByB.length >= 3, 'B taking over', 30_000);
  // The tick A claimed and left unfinished was fired by B, once; and B fires the next ones.
  expect(claimedByA).toHaveLength(1);
  expect(firedByB.filter((x) => x === claimedByA[0])).toHaveLength(1);
  expect(new Set(firedByB).size).toBe(firedByB.length);
  thaw();
});

test('a tick whose acceptance outlasts the lease is renewed by its claimer, not fired again by another', async () => {
  const SLOW = '/spaces/default/connections/slow';
  const fired: { instance: string; id: string }[] = [];
  const instances = ['a', 'b'].map(async (instance) => {
    // B reads late: A wins the claims, and B checks back on each tick A has not finished.
    const store = instance === 'a' ? etcd.store() : slowReads(etcd.store(), 150);
    const gateway = await gatewayOn(store);
    newRunner(gateway, store, {
      instanceId: instance,
      leaseTtl: 500,
      entry: async (event, { space }) => {
        if (event.source !== SLOW) return gateway.emit(event, { space });
        fired.push({ instance, id: String(event.id) });
        // Accepted after three lease times (a slow journal, a store under load): still alive.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        return gateway.emit(event, { space });
      },
    });
    return gateway;
  });
  const [a] = await Promise.all(instances);
  await a.createConnection({ ...TICK, connectionId: 'slow', source: { cron: '*/2 * * * * *' } });
  await until(() => fired.length >= 3, 'three ticks', 30_000);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const ids = fired.map((f) => f.id);
  // One firing per tick: the claimer renews its claim while the event is in flight.
  expect(ids.length - new Set(ids).size).toBe(0);
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
