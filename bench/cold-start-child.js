// Measures one cold start in a fresh process (run with --expose-gc): the gateway's ready() or a
// raw paginated listing, and the heap it leaves.
const { EtcdStore } = require('../dist');
const { measureColdStart } = require('./harness');

const [mode, endpointsJson, prefix, pageSize] = process.argv.slice(2);

async function main() {
  const store = new EtcdStore({ hosts: JSON.parse(endpointsJson), requestTimeout: 30_000 });
  await measureColdStart(store, mode, prefix, async () => {
    const keep = [];
    let after;
    let revision;
    for (;;) {
      const page = await store.list(prefix + '/', { limit: Number(pageSize), after, revision });
      revision = page.revision;
      keep.push(...page.items);
      if (!page.more) return keep;
      after = page.items[page.items.length - 1].key;
    }
  });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
