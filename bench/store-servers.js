// The ZooKeeper and Consul servers of the store benchmarks, and the raw clients of their baselines.
const { ConsulStore, startConsul, startZooKeeper, ZooKeeperStore } = require('../dist');
const { CACHE } = require('../scripts/servers');

/** A store of a kind at an address (a ZooKeeper connection string, a Consul URL). */
function storeAt(kind, address, options = {}) {
  return kind === 'zookeeper'
    ? new ZooKeeperStore({ servers: address, requestTimeout: 60_000, ...options })
    : new ConsulStore({ url: address, requestTimeout: 60_000, ...options });
}

/** Starts a throwaway server of a kind: its address, store factory, and process id (for its CPU and RSS). */
async function startServer(kind) {
  if (kind === 'zookeeper') {
    const zk = await startZooKeeper();
    return {
      address: zk.servers,
      pid: zk.process.pid,
      store: (options = {}) => storeAt(kind, zk.servers, options),
      stop: () => zk.stop(),
    };
  }
  const consul = await startConsul({ binary: `${CACHE}/consul/usr/bin/consul` });
  return {
    address: consul.url,
    pid: consul.process.pid,
    store: (options = {}) => storeAt(kind, consul.url, options),
    stop: () => consul.stop(),
  };
}

/** A connected node-zookeeper-client, its calls as promises. */
async function rawZooKeeper(servers) {
  const zookeeper = require('node-zookeeper-client');
  const client = zookeeper.createClient(servers, { sessionTimeout: 10_000 });
  await new Promise((resolve) => {
    client.once('connected', resolve);
    client.connect();
  });
  const call =
    (method) =>
    (...args) =>
      new Promise((resolve, reject) =>
        client[method](...args, (error, result, stat) =>
          error ? reject(error) : resolve(stat === undefined ? result : [result, stat]),
        ),
      );
  return {
    client,
    create: call('create'),
    mkdirp: call('mkdirp'),
    getData: call('getData'),
    getChildren: call('getChildren'),
    close: () => client.close(),
  };
}

/** A Consul client from the `consul` package. */
function rawConsul(url) {
  const Consul = require('consul');
  return new Consul({ baseUrl: `${url}/v1` });
}

module.exports = { startServer, storeAt, rawZooKeeper, rawConsul };
