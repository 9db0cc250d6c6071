// The subscriptions curve: 1k, 10k, 100k, 1M subscriptions of each kind (async, sync, filtered) in
// a MemoryStore, one fresh process per point (subscriptions-child.js), then the cold start of the
// async kind on etcd against a raw listing at the gateway's page size (../cold-start-child.js).
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { EtcdStore, startEtcd } = require('../../dist');
const { fillStore, KINDS } = require('./subscription-entries');

const SIZES = [1_000, 10_000, 100_000, 1_000_000];
const PREFIX = '/serverless-event-gateway';
const HEAP_MB = 16_384;

const POINT_TIMEOUT_MS = 20 * 60_000;

function node(script, args) {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', `--max-old-space-size=${HEAP_MB}`, script, ...args],
    {
      encoding: 'utf8',
      maxBuffer: 16 * 2 ** 20,
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: POINT_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    },
  );
  return JSON.parse(out.trim().split('\n').pop());
}

/** A point, or why it could not be measured (it did not fit in time or memory): the curve goes on. */
function attempt(what, measure, onPoint) {
  return Promise.resolve()
    .then(measure)
    .catch((error) => ({ ...what, error: String(error.message).split('\n')[0] }))
    .then((point) => {
      onPoint(point);
      return point;
    });
}

/** One point in memory; bytes per subscription net of the same gateway with none. */
function memoryPoint(kind, count, empty) {
  process.stderr.write(`  ${kind} ${count.toLocaleString('en')}...\n`);
  const point = node(join(__dirname, 'subscriptions-child.js'), [kind, String(count)]);
  return { ...point, bytesPerSubscription: (point.heapBytes - empty.heapBytes) / count };
}

/** Cold start over etcd at one size: ready() and the raw listing, 10,000 per page, fresh processes. */
async function etcdColdStart(count) {
  process.stderr.write(`  etcd cold start ${count.toLocaleString('en')}...\n`);
  const etcd = await startEtcd({
    name: `curves-cold-${count}`,
    args: ['--quota-backend-bytes', String(8 * 2 ** 30)],
  });
  try {
    const store = new EtcdStore({ hosts: etcd.endpoints, requestTimeout: 60_000 });
    const filled = performance.now();
    await fillStore(store, PREFIX, 'async', count, 100); // etcd's default --max-txn-ops is 128
    const fillMs = performance.now() - filled;
    await store.close();
    const child = join(__dirname, '..', 'cold-start-child.js');
    const measure = (mode) => node(child, [mode, JSON.stringify(etcd.endpoints), PREFIX, '10000']);
    measure('gateway'); // warm-up: etcd's page cache
    const raw = measure('raw');
    const ours = measure('gateway');
    return { count, fillMs, readyMs: ours.ms, rawMs: raw.ms, ratio: ours.ms / raw.ms };
  } finally {
    await etcd.stop();
  }
}

/**
 * Runs the curve up to `max` subscriptions, for the `parts` named (kinds in memory, 'etcd' for the
 * cold start on etcd); returns its points. `onPoint` sees each point as it
 * is measured (the runner keeps them, so a later failure loses nothing).
 */
async function run({ max, parts = [...KINDS, 'etcd'], onPoint = () => undefined }) {
  const sizes = SIZES.filter((n) => n <= max);
  const memory = [];
  for (const kind of KINDS.filter((k) => parts.includes(k))) {
    const empty = node(join(__dirname, 'subscriptions-child.js'), [kind, '0']);
    for (const count of sizes) {
      const what = { curve: 'memory', kind, count };
      memory.push(await attempt(what, () => memoryPoint(kind, count, empty), onPoint));
    }
  }
  const etcd = [];
  for (const count of parts.includes('etcd') ? sizes : []) {
    const what = { curve: 'etcd', count };
    etcd.push(await attempt(what, () => etcdColdStart(count), onPoint));
  }
  return { memory, etcd };
}

module.exports = { run, SIZES };
