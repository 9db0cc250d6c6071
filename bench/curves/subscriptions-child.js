// One point of the subscriptions curve in a fresh process (run with --expose-gc): `count`
// subscriptions of a kind in a MemoryStore, then a gateway on it. Prints one JSON line: cold start
// (ready()) against the raw listing at the gateway's page size, heap bytes per subscription,
// routing lookup time, and the time to apply one configuration change at that size.
const { createGateway, MemoryStore } = require('../../dist');
const { opsPerSecond, percentile } = require('../harness');
const { fillStore, subscriptionAt } = require('./subscription-entries');

const [kind, countText] = process.argv.slice(2);
const count = Number(countText);
const PREFIX = '/serverless-event-gateway';
const PAGE = 10_000; // the cache's default pageSize
const LOOKUPS = 1000;
const APPLIES = 50;
const API_WRITES = Number(process.env.API_WRITES ?? 10);

const EVENT = {
  specversion: '1.0',
  id: 'lookup-1',
  source: '/shop/eu',
  subject: 'order-x',
  type: 'type.0',
  data: { amount: 120, country: 'FR', tier: 'gold' },
};

function heap() {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
}

async function rawListing(store) {
  const keep = [];
  let after;
  let revision;
  for (;;) {
    const page = await store.list(PREFIX + '/', { limit: PAGE, after, revision });
    revision = page.revision;
    keep.push(...page.items);
    if (!page.more) return keep;
    after = page.items[page.items.length - 1].key;
  }
}

/** One lookup of the kind: the candidates of (type.0, POST /p0), or the sync route of GET /s0. */
function lookupOf(gateway) {
  if (kind === 'sync') {
    return () => (gateway.syncRoute('default', 'http.request', 'GET', '/s0') ? 1 : 0);
  }
  return () => gateway.explain({ event: EVENT, path: '/p0' }).subscriptions.length;
}

async function main() {
  const store = new MemoryStore({ historySize: 1000 });
  let started = performance.now();
  await fillStore(store, PREFIX, kind, count);
  const fillMs = performance.now() - started;

  // The raw listing first: the same pages the cache reads, kept as the cache keeps its entries.
  started = performance.now();
  let listed = await rawListing(store);
  const rawMs = performance.now() - started;
  const entries = listed.length;
  listed = undefined;

  const before = heap();
  started = performance.now();
  const gateway = createGateway(store, { resyncInterval: 0, prefix: PREFIX });
  await gateway.ready();
  const readyMs = performance.now() - started;
  const heapBytes = heap() - before;
  const rssMiB = process.memoryUsage().rss / 2 ** 20;

  const lookup = lookupOf(gateway);
  if (count > 0 && lookup() !== 1)
    throw new Error(`${kind}: the lookup found ${lookup()} routes, not 1`);
  let sink = 0;
  const rates = await opsPerSecond(
    {
      lookup: () => {
        for (let i = 0; i < LOOKUPS; i++) sink += lookup();
      },
    },
    { time: 500, warmupTime: 200, rounds: 3 },
  );
  const lookupNs = 1e9 / (rates.lookup * LOOKUPS);

  // Apply: a subscription put straight into the store until this instance routes it
  // (config.changed), and the CPU that took: what every instance pays per change.
  const applies = [];
  let next = count;
  const cpu = process.cpuUsage();
  for (let i = 0; i < APPLIES + 10; i++) {
    const sub = subscriptionAt(kind, next++);
    const routed = new Promise((resolve) => gateway.once('config.changed', resolve));
    const t0 = performance.now();
    await store.put(`${PREFIX}/subscriptions/default/${sub.subscriptionId}`, JSON.stringify(sub));
    await routed;
    if (i >= 10) applies.push(performance.now() - t0);
  }
  const used = process.cpuUsage(cpu);
  // The same through the write API (validation, conflict checks, then the same apply): what the
  // writing instance pays.
  const writes = [];
  for (let i = 0; i < API_WRITES + 2; i++) {
    const { space, subscriptionId, ...input } = subscriptionAt(kind, next++);
    void space;
    void subscriptionId;
    const routed = new Promise((resolve) => gateway.once('config.changed', resolve));
    const t0 = performance.now();
    await Promise.all([gateway.subscribe(input), routed]);
    if (i >= 2) writes.push(performance.now() - t0);
  }
  process.stdout.write(
    JSON.stringify({
      kind,
      count,
      entries,
      fillMs,
      readyMs,
      rawMs,
      heapBytes,
      lookupNs,
      applyP50Ms: percentile(applies, 50),
      applyP99Ms: percentile(applies, 99),
      applyCpuMs: (used.user + used.system) / 1000 / (APPLIES + 10),
      writeP50Ms: percentile(writes, 50),
      rssMiB,
      sink: sink > 0,
    }) + '\n',
  );
  await gateway.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
