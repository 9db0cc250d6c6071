// Measures one cold start in a fresh process (run with --expose-gc): the gateway's ready() or a
// raw paginated listing, and the heap it leaves.
const { createGateway, EtcdStore } = require('../dist');

const [mode, endpointsJson, prefix, pageSize] = process.argv.slice(2);

async function main() {
  const store = new EtcdStore({ hosts: JSON.parse(endpointsJson), requestTimeout: 30_000 });
  await store.get('/warm'); // connect first: the connection is not what is measured
  global.gc();
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  let keep;
  if (mode === 'gateway') {
    keep = createGateway(store, { resyncInterval: 0, prefix });
    await keep.ready();
  } else {
    keep = [];
    let after;
    let revision;
    for (;;) {
      const page = await store.list(prefix + '/', { limit: Number(pageSize), after, revision });
      revision = page.revision;
      keep.push(...page.items);
      if (!page.more) break;
      after = page.items[page.items.length - 1].key;
    }
  }
  const ms = performance.now() - started;
  global.gc();
  const heapBytes = process.memoryUsage().heapUsed - before;
  process.stdout.write(
    JSON.stringify({ ms, heapBytes, entries: mode === 'gateway' ? keep.revision : keep.length }),
  );
  if (mode === 'gateway') await keep.close();
  await store.close();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
