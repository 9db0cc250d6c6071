// (l) What one instance spends to apply one configuration change: a gateway with N entries in
// its catalog hears a watch batch of one put (a subscription moved to another path, or a function
// re-registered) and applies it (cache, catalog, router). Measured as process CPU over many
// changes fed straight to the gateway's watch listener, so that no store client's decoding is
// counted. Baseline: the least any copy can do with the same change, JSON.parse of the value and
// a Map.set of the parsed record.
const { MemoryStore, createGateway } = require('../dist');
const { configurationEntries } = require('./config-entries');

const PREFIX = '/serverless-event-gateway';
const CHANGES = 20_000;

/** A MemoryStore whose watch the benchmark drives itself. */
class DrivenStore extends MemoryStore {
  watch(prefix, fromRevision, listener) {
    this.listener = listener;
    this.nextRevision = fromRevision;
    return { close() {} };
  }
}

/** The watch batches of `count` changes: each moves one existing subscription or function. */
function batches(ops, count, kind, from) {
  const targets = ops.filter((op) => op.key.includes(`/${kind}/`));
  const out = [];
  for (let i = 0; i < count; i++) {
    const op = targets[i % targets.length];
    const record = JSON.parse(op.value);
    if (kind === 'subscriptions') record.path = `/moved/${i}`;
    else record.provider = { url: `http://127.0.0.1:1/moved/${i}` };
    const revision = from + i;
    out.push({
      type: 'changes',
      revision,
      changes: [
        {
          type: 'put',
          kv: {
            key: op.key,
            value: JSON.stringify(record),
            createRevision: 2,
            modRevision: revision,
          },
        },
      ],
    });
  }
  return out;
}

function cpuMicros(fn) {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

async function measure(entries, kind) {
  const ops = configurationEntries(PREFIX, entries, Math.min(100, Math.ceil(entries / 10)));
  const store = new DrivenStore();
  await store.txn([], ops);
  const gw = createGateway(store, { resyncInterval: 0 });
  await gw.ready();
  const warm = batches(ops, 2000, kind, store.nextRevision);
  for (const batch of warm) store.listener(batch);
  const work = batches(ops, CHANGES, kind, store.nextRevision + 2000);
  const ours = cpuMicros(() => {
    for (const batch of work) store.listener(batch);
  });
  await gw.close();
  const copy = new Map();
  const raw = cpuMicros(() => {
    for (const batch of work) {
      const { kv } = batch.changes[0];
      copy.set(kv.key, JSON.parse(kv.value));
    }
  });
  return { entries, kind, oursUs: ours / CHANGES, rawUs: raw / CHANGES };
}

module.exports = {
  name: 'config-apply',
  title: '(l) CPU one instance spends applying one configuration change, N entries',
  goal: '< 0.1 ms CPU per applied change',
  async run() {
    const rows = [];
    for (const entries of [100, 10_000, 100_000]) {
      for (const kind of ['subscriptions', 'functions']) rows.push(await measure(entries, kind));
    }
    const worst = rows.reduce((a, b) => (b.oursUs > a.oursUs ? b : a));
    return {
      ours: {
        value: worst.oursUs,
        unit: 'µs/change',
        label: `worst (${worst.entries} ${worst.kind})`,
      },
      baseline: { value: worst.rawUs, unit: 'µs/change', label: 'JSON.parse + Map.set' },
      ratio: worst.oursUs / worst.rawUs,
      difference: rows
        .map((r) => `${r.kind} N=${r.entries}: ${r.oursUs.toFixed(1)} vs ${r.rawUs.toFixed(1)} µs`)
        .join('; '),
      details: rows,
      met: worst.oursUs < 100,
    };
  },
};
