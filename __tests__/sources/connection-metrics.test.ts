// Per-connection Prometheus metrics, scraped from a prom-client registry fed by a gateway that runs
// real schedules: labelled by space and connection, at most 1,000 connections one by one.
import { Registry } from 'prom-client';
import { createGateway, registerPrometheusMetrics, type Gateway } from '../../lib';
import { labelledConnections } from '../../lib/metrics/connection-metrics';

jest.setTimeout(60_000);

const gateways: Gateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The samples of a scrape: `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

test('a scrape shows each connection: messages accepted and refused, state, units owned, in flight, failing', async () => {
  const gateway = createGateway(undefined, {
    resyncInterval: 0,
    // Refuses the events of one connection: its messages are dead-lettered.
    plugins: [
      {
        name: 'no-refused-ticks',
        onEvent: (event) => (event.type === 'refused.tick' ? { refuse: 'not taken' } : undefined),
      },
    ],
  });
  gateways.push(gateway);
  await gateway.ready();
  const received: string[] = [];
  await gateway.registerFunction({
    functionId: 'ticker',
    handler: async (event) => void received.push(String((event as { id: string }).id)),
  });
  await gateway.createEventType({ name: 'tick' });
  await gateway.subscribe({ eventType: 'tick', functionId: 'ticker' });
  const every = { type: 'schedule' as const, source: { cron: '* * * * * *' } };
  await gateway.createConnection({ connectionId: 'tick', ...every, eventType: 'tick' });
  await gateway.createConnection({ connectionId: 'bad', ...every, eventType: 'refused.tick' });
  await gateway.createConnection({
    space: 'other',
    connectionId: 'tick',
    type: 'schedule',
    source: { cron: '0 3 * * *' },
    eventType: 'tick',
  });
  const registry = new Registry();
  registerPrometheusMetrics(gateway, { registry, labels: { instance: 'a' } });
  const health = () => gateway.health().connections ?? [];
  const of = (space: string, id: string) =>
    health().find((c) => c.space === space && c.connectionId === id);
  await until(
    () => (of('default', 'tick')?.accepted ?? 0) >= 1 && (of('default', 'bad')?.refused ?? 0) >= 1,
  );

  const scraped = samples(await registry.metrics());
  const labels = (space: string, connection: string, extra = '') =>
    `{instance="a",space="${space}",connection="${connection}"${extra}}`;
  const figures = of('default', 'tick')!;
  const accepted = scraped.get(
    `eventgateway_connection_messages_total${labels('default', 'tick', ',outcome="accepted"')}`,
  );
  // A tick may have been accepted between the health read above and the scrape.
  expect(accepted).toBeGreaterThanOrEqual(figures.accepted);
  expect(
    scraped.get(
      `eventgateway_connection_messages_total${labels('default', 'bad', ',outcome="refused"')}`,
    ),
  ).toBeGreaterThanOrEqual(1);
  expect(
    scraped.get(
      `eventgateway_connection_messages_total${labels('default', 'bad', ',outcome="accepted"')}`,
    ),
  ).toBe(0);
  expect(
    scraped.get(`eventgateway_connection_state${labels('default', 'tick', ',state="running"')}`),
  ).toBe(1);
  expect(scraped.get(`eventgateway_connection_owned_units${labels('default', 'tick')}`)).toBe(1);
  // The daily schedule of another space: its own series, nothing owned before its first tick.
  expect(scraped.get(`eventgateway_connection_owned_units${labels('other', 'tick')}`)).toBe(0);
  expect(scraped.get(`eventgateway_connection_in_flight${labels('other', 'tick')}`)).toBe(0);
  expect(scraped.get(`eventgateway_connection_failing${labels('default', 'tick')}`)).toBe(0);
  expect(scraped.has(`eventgateway_connection_retries_total${labels('default', 'tick')}`)).toBe(
    true,
  );
  expect(
    scraped.has(`eventgateway_connection_ack_failures_total${labels('default', 'tick')}`),
  ).toBe(true);

  // A deleted connection's series go with it.
  await gateway.deleteConnection({ connectionId: 'bad' });
  await until(() => !of('default', 'bad'));
  expect(await registry.metrics()).not.toContain('connection="bad"');
});

test('a gateway that runs no connections has no per-connection series', async () => {
  const gateway = createGateway(undefined, { resyncInterval: 0, connections: false });
  gateways.push(gateway);
  await gateway.ready();
  await gateway.createConnection({
    connectionId: 'tick',
    type: 'schedule',
    source: { cron: '* * * * * *' },
    eventType: 'tick',
  });
  const registry = new Registry();
  registerPrometheusMetrics(gateway, { registry });
  expect(await registry.metrics()).not.toMatch(/connection="/);
});

test('bounded: 1,003 running connections are 1,000 series and (other), which sums the rest', async () => {
  // Past the default of 100 connections a space: lifted.
  const gateway = createGateway(undefined, {
    resyncInterval: 0,
    limits: { connectionsPerSpace: null },
  });
  gateways.push(gateway);
  await gateway.ready();
  const ids = Array.from({ length: 1003 }, (_, i) => `c${String(i).padStart(4, '0')}`);
  for (const connectionId of ids) {
    await gateway.createConnection({
      connectionId,
      type: 'schedule',
      source: { cron: '0 3 1 1 *' },
      eventType: 'tick',
    });
  }
  await until(() => (gateway.health().connections ?? []).length === 1003);
  const registry = new Registry();
  registerPrometheusMetrics(gateway, { registry });
  const lines = [...samples(await registry.metrics()).keys()].filter((key) =>
    key.startsWith('eventgateway_connection_in_flight{'),
  );
  expect(lines).toHaveLength(1001);
  expect(lines).toContain('eventgateway_connection_in_flight{space="default",connection="c0999"}');
  expect(lines).not.toContain(
    'eventgateway_connection_in_flight{space="default",connection="c1000"}',
  );
  expect(lines).toContain(
    'eventgateway_connection_in_flight{space="(other)",connection="(other)"}',
  );

  // The sums, from figures: (other) adds up every connection past the bound.
  const figure = (connectionId: string, accepted: number, lastError?: string) => ({
    space: 'default',
    connectionId,
    state: 'running',
    inFlight: 1,
    accepted,
    refused: 0,
    retries: 0,
    ackFailures: 0,
    owned: ['tick'],
    ...(lastError ? { lastError } : {}),
  });
  const rows = labelledConnections(
    [figure('a', 1), figure('b', 2, 'boom'), figure('c', 4, 'bang')],
    1,
  );
  expect(rows).toEqual([
    expect.objectContaining({ connection: 'a', accepted: 1, failing: 0 }),
    {
      space: '(other)',
      connection: '(other)',
      inFlight: 2,
      accepted: 6,
      refused: 0,
      retries: 0,
      ackFailures: 0,
      owned: 2,
      failing: 2,
    },
  ]);
});
