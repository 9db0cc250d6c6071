// Measures, in a fresh process run with --expose-gc, what a gateway holds (bench/memory.bench.js):
// `per-subscription <n> <async|sync|filtered>`: the heap (and external memory) a gateway's
// cache, catalog and router keep for n subscriptions listed from a store that makes each page
// when asked (so the store itself holds nothing), against the least a copy can hold (each value
// JSON.parse'd into a Map under its key); `idle`: the RSS of a ready gateway on a MemoryStore
// with 100 entries; `bare`: the RSS of a Node process that loaded nothing.
const { benchFilter } = require('./harness');

const [mode, countText, kind] = process.argv.slice(2);
const PREFIX = '/serverless-event-gateway';
const FUNCTIONS = 100;

function settle() {
  for (let i = 0; i < 4; i++) global.gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

const fnKey = (i) => `${PREFIX}/functions/default/fn${String(i).padStart(3, '0')}`;
const subId = (i) => `s${String(i).padStart(9, '0')}`;

/** The j-th pair of the listing: the functions, then the subscriptions, in key order. */
function pair(j) {
  if (j < FUNCTIONS) {
    const functionId = `fn${String(j).padStart(3, '0')}`;
    const value = {
      space: 'default',
      functionId,
      type: 'http',
      provider: { url: `http://127.0.0.1:1/${functionId}` },
    };
    return { key: fnKey(j), value: JSON.stringify(value), createRevision: 2, modRevision: 2 };
  }
  const i = j - FUNCTIONS;
  const subscriptionId = subId(i);
  const sub = {
    space: 'default',
    subscriptionId,
    type: kind === 'sync' ? 'sync' : 'async',
    eventType: 'http.request',
    functionId: `fn${String(i % FUNCTIONS).padStart(3, '0')}`,
    path: `/p${i}`,
    method: 'POST',
  };
  if (kind === 'filtered') {
    sub.filter = benchFilter(i);
  }
  return {
    key: `${PREFIX}/subscriptions/default/${subscriptionId}`,
    value: JSON.stringify(sub),
    createRevision: 2,
    modRevision: 2,
  };
}

async function perSubscription(count) {
  const { MemoryStore, createGateway } = require('../dist');
  const total = FUNCTIONS + count;
  /** A store whose listing is made page by page as asked, and kept by nobody but the reader. */
  class GeneratedStore extends MemoryStore {
    async list(_prefix, { limit = total, after } = {}) {
      let from = 0;
      if (after !== undefined) {
        from = after.includes('/functions/')
          ? Number(after.slice(-3)) + 1
          : FUNCTIONS + Number(after.slice(-9)) + 1;
      }
      const to = Math.min(total, from + limit);
      const items = [];
      for (let j = from; j < to; j++) items.push(pair(j));
      return { items, revision: 2, more: to < total };
    }
    watch() {
      return { close() {} };
    }
  }
  // The least a copy can hold first (then let go), the gateway's second.
  let raw = new Map();
  const rawBefore = settle();
  for (let j = 0; j < total; j++) {
    const { key, value } = pair(j);
    raw.set(key, JSON.parse(value));
  }
  const rawHeld = settle() - rawBefore;
  if (raw.size !== total) throw new Error('raw copy incomplete');
  raw = undefined;
  const store = new GeneratedStore();
  const before = settle();
  const gw = createGateway(store, { resyncInterval: 0 });
  await gw.ready();
  const held = settle() - before;
  await gw.close();
  return {
    count,
    kind,
    bytesPerSubscription: held / total,
    rawBytesPerSubscription: rawHeld / total,
  };
}

async function idle() {
  const { MemoryStore, createGateway } = require('../dist');
  const { configurationEntries } = require('./config-entries');
  const store = new MemoryStore();
  await store.txn([], configurationEntries(PREFIX, 100, 10));
  const gw = createGateway(store, { resyncInterval: 0 });
  await gw.ready();
  settle();
  await new Promise((resolve) => setTimeout(resolve, 200));
  settle();
  const usage = process.memoryUsage();
  const modules = Object.keys(require.cache).length;
  await gw.close();
  return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, modules };
}

async function main() {
  let result;
  if (mode === 'per-subscription') result = await perSubscription(Number(countText));
  else if (mode === 'idle') result = await idle();
  else {
    settle();
    result = { rss: process.memoryUsage().rss };
  }
  process.stdout.write(JSON.stringify(result));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
