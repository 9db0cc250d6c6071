// One cold start over ZooKeeper or Consul in a fresh process (run with --expose-gc): the gateway's
// ready() or the raw client's fastest read of the same keys, and the heap it leaves.
const { measureColdStart } = require('./harness');
const { rawConsul, rawZooKeeper } = require('./store-servers');

const [mode, kind, address, prefix] = process.argv.slice(2);

async function rawRead() {
  if (kind === 'zookeeper') {
    const zk = await rawZooKeeper(address);
    const [names] = await zk.getChildren('/event-gateway/keys');
    const out = [];
    // Pipelined, as the store reads a page.
    for (let i = 0; i < names.length; i += 10_000) {
      const chunk = names.slice(i, i + 10_000);
      const data = await Promise.all(chunk.map((n) => zk.getData(`/event-gateway/keys/${n}`)));
      chunk.forEach((n, j) => out.push([n, data[j][0].toString('utf8')]));
    }
    zk.close();
    return out;
  }
  const consul = rawConsul(address);
  const entries = await consul.kv.get({ key: 'event-gateway/keys/', recurse: true });
  consul.destroy();
  return entries.map((e) => [e.Key, e.Value]);
}

async function main() {
  const { storeAt } = require('./store-servers');
  await measureColdStart(storeAt(kind, address), mode, prefix, rawRead);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
