// The gateway runs the connections of its configuration by itself (the `connections` option):
// a schedule's events are delivered, its state is in health(), a refusal by an intake plugin
// is raised as `connection.refused` on the gateway, and close() stops it.
import { createGateway, MemoryStore, type CloudEvent, type Gateway } from '../../lib';
import { until } from '../helpers/connection-runner';

jest.setTimeout(30_000);

let gateway: Gateway;
afterEach(async () => {
  await gateway?.close();
});

async function scheduled(options: Parameters<typeof createGateway>[1] = {}) {
  gateway = createGateway(new MemoryStore(), { resyncInterval: 0, ...options });
  await gateway.ready();
  const delivered: CloudEvent[] = [];
  await gateway.registerFunction({
    functionId: 'sink',
    handler: (event) => void delivered.push(event as CloudEvent),
  });
  await gateway.createEventType({ name: 'clock.tick' });
  await gateway.subscribe({ eventType: 'clock.tick', functionId: 'sink' });
  await gateway.createConnection({
    connectionId: 'clock',
    type: 'schedule',
    source: { cron: '* * * * * *' },
    eventType: 'clock.tick',
  });
  return delivered;
}

test('a connection created on a gateway runs on it: its events are delivered, health() shows it', async () => {
  const delivered = await scheduled();
  await until(() => delivered.length >= 2, 'two ticks delivered');
  expect(delivered[0]).toMatchObject({
    type: 'clock.tick',
    source: expect.stringMatching(/clock/),
  });
  expect(gateway.health().connections).toEqual([
    expect.objectContaining({ space: 'default', connectionId: 'clock', type: 'schedule' }),
  ]);
  await gateway.deleteConnection({ connectionId: 'clock' });
  await until(() => gateway.health().connections?.length === 0, 'the run stopped');
  const count = delivered.length;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(delivered.length).toBe(count);
});

test('its events pass the intake plugins as `source`; a refusal is raised as connection.refused', async () => {
  const seen: string[] = [];
  const refusals: { connectionId: string; code: string }[] = [];
  const delivered = await scheduled({
    plugins: [
      {
        name: 'no-ticks',
        onEvent: (_event, { via }) => {
          seen.push(via);
          return { refuse: 'no ticks today', status: 403 };
        },
      },
    ],
  });
  gateway.on('connection.refused', (notice) => void refusals.push(notice));
  await until(() => refusals.length >= 1, 'a refusal');
  expect(refusals[0]).toMatchObject({ connectionId: 'clock', code: 'EVENT_REFUSED' });
  expect(seen[0]).toBe('source');
  expect(delivered).toEqual([]);
});

test('connections: false: the instance runs none', async () => {
  const delivered = await scheduled({ connections: false });
  expect(gateway.health().connections).toBeUndefined();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(delivered).toEqual([]);
});

test.each([
  ['yes', /"connections" must be an object/],
  [{ leaseTtl: 0 }, /connections\.leaseTtl" must be a positive integer/],
  [{ leaseTtl: Number.NaN }, /connections\.leaseTtl/],
  [{ leaseTtl: 2 ** 31 }, /connections\.leaseTtl/],
  [{ drainTimeout: -1 }, /connections\.drainTimeout/],
  [{ maxMessageBytes: Infinity }, /connections\.maxMessageBytes/],
  [{ instanceId: 7 }, /connections\.instanceId" must be a string/],
])('connections: %p is refused with a ValidationError', (connections, message) => {
  expect(() =>
    createGateway(new MemoryStore(), {
      connections: connections as never,
    }),
  ).toThrow(
    expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringMatching(message) }),
  );
});

test("connections' code that cannot be loaded (a package file left out) is reported when a connection is configured, never thrown into the configuration cache", async () => {
  await jest.isolateModulesAsync(async () => {
    jest.doMock('../../lib/sources/connection-runner', () => {
      throw new Error("Cannot find module './lazy.js'");
    });
    const lib = (await import('../../lib')) as typeof import('../../lib');
    const errors: Error[] = [];
    const isolated = lib.createGateway(new lib.MemoryStore(), { resyncInterval: 0 });
    isolated.on('gateway.error', (error) => void errors.push(error));
    try {
      await isolated.ready();
      await isolated.createEventType({ name: 'clock.tick' });
      await isolated.createConnection({
        connectionId: 'clock',
        type: 'schedule',
        source: { cron: '* * * * * *' },
        eventType: 'clock.tick',
      });
      // The configuration is still applied after the connection's (tried again at its next change).
      await isolated.createEventType({ name: 'after.it' });
      expect(isolated.listEventTypes().map((type) => type.name)).toContain('after.it');
      expect(errors.map((error) => error.message)).toEqual([
        expect.stringMatching(/connections could not be loaded: Cannot find module '\.\/lazy\.js'/),
      ]);
      expect(isolated.health().connections).toEqual([]);
    } finally {
      await isolated.close();
    }
  });
});
