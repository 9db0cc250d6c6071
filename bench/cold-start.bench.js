// (f) Cold start: ready() over 100,000 configuration entries in etcd (time, and heap bytes per
// subscription), against a raw paginated etcd listing of the same keys.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { EtcdStore, startEtcd } = require('../dist');
const { configurationEntries } = require('./config-entries');
const { coldStartResult } = require('./harness');

const ENTRIES = 100_000;
const FUNCTIONS = 1000;

async function fill(endpoints, prefix) {
  const store = new EtcdStore({ hosts: endpoints, requestTimeout: 30_000 });
  const ops = configurationEntries(prefix, ENTRIES, FUNCTIONS);
  for (let i = 0; i < ops.length; i += 100) await store.txn([], ops.slice(i, i + 100));
  await store.close();
}

function measure(mode, endpoints, prefix, pageSize = 1000) {
  const out = execFileSync(
    process.execPath,
    [
      '--expose-gc',
      join(__dirname, 'cold-start-child.js'),
      mode,
      JSON.stringify(endpoints),
      prefix,
      String(pageSize),
    ],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(out);
}

module.exports = {
  name: 'cold-start',
  title: `(f) ready() over ${ENTRIES.toLocaleString('en')} entries in etcd vs a raw listing, 1,000 per page`,
  goal: 'under 3 s and under 1 KiB per subscription',
  async run() {
    const etcd = await startEtcd({
      name: 'bench-cold',
      args: ['--quota-backend-bytes', String(4 * 2 ** 30)],
    });
    try {
      const prefix = '/serverless-event-gateway';
      await fill(etcd.endpoints, prefix);
      measure('gateway', etcd.endpoints, prefix); // warm-up: etcd's page cache, V8
      const raw = measure('raw', etcd.endpoints, prefix);
      const ours = measure('gateway', etcd.endpoints, prefix);
      // The same single stream with the gateway's page size: what is left is the gateway's own work.
      const rawLarge = measure('raw', etcd.endpoints, prefix, 10_000);
      return coldStartResult(ours, raw, ENTRIES - FUNCTIONS, 'etcd listing, 1000 per page', {
        difference: `raw by 10,000: ${Math.round(rawLarge.ms)} ms`,
        details: { rawLarge },
      });
    } finally {
      await etcd.stop();
    }
  },
};
