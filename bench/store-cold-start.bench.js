// Cold start over ZooKeeper and over Consul: ready() over 100,000 configuration entries (time, and
// heap bytes per subscription) against the raw client's fastest read of the same keys (ZooKeeper:
// the children, then every value pipelined; Consul: one recursive read).
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { configurationEntries } = require('./config-entries');
const { coldStartResult } = require('./harness');
const { startServer } = require('./store-servers');

const ENTRIES = Number(process.env.ENTRIES ?? 100_000);
const FUNCTIONS = 1000;
const PREFIX = '/serverless-event-gateway';

function measure(mode, kind, address) {
  const child = join(__dirname, 'store-cold-start-child.js');
  const out = execFileSync(process.execPath, ['--expose-gc', child, mode, kind, address, PREFIX], {
    encoding: 'utf8',
    maxBuffer: 16 * 2 ** 20,
  });
  return JSON.parse(out);
}

module.exports = ['zookeeper', 'consul'].map((kind) => ({
  name: `cold-start-${kind}`,
  title: `ready() over ${ENTRIES.toLocaleString('en')} entries in ${kind} vs the raw client's read`,
  goal: 'under 3 s and under 1 KiB per subscription',
  async run() {
    const server = await startServer(kind);
    try {
      const store = server.store();
      const ops = configurationEntries(PREFIX, ENTRIES, FUNCTIONS);
      // In writes of 50 keys: within both servers' default request limits.
      for (let i = 0; i < ops.length; i += 50) await store.txn([], ops.slice(i, i + 50));
      await store.close();
      measure('gateway', kind, server.address); // warm-up
      const raw = measure('raw', kind, server.address);
      const ours = measure('gateway', kind, server.address);
      return coldStartResult(ours, raw, ENTRIES - FUNCTIONS, `raw ${kind} read of every key`);
    } finally {
      await server.stop();
    }
  },
}));
