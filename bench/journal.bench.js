// (i) local emit -> delivery with the local journal against the same gateway without one
// (batches of 1,000 concurrent emits, each resolved once recorded), and the latency of one
// journaled emit (one sync each: nothing to share it with).
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { BENCH_EVENT, median, percentile } = require('./harness');

const BATCH = 1000;
const BATCHES = 20;
const ROUNDS = 3;
const LATENCY_SAMPLES = 500;

async function gateway(journalDir) {
  const { createGateway, LocalJournal, MemoryStore } = require('../dist');
  let delivered = 0;
  const gw = createGateway(new MemoryStore(), {
    resyncInterval: 0,
    queueSize: BATCH * BATCHES,
    ...(journalDir ? { journal: new LocalJournal({ directory: journalDir }) } : {}),
  });
  await gw.registerFunction({ functionId: 'handler', handler: () => void delivered++ });
  await gw.createEventType({ name: BENCH_EVENT.type });
  await gw.subscribe({ eventType: BENCH_EVENT.type, functionId: 'handler' });
  await gw.ready();
  return { gw, delivered: () => delivered };
}

async function throughput(journalDir) {
  const { gw, delivered } = await gateway(journalDir);
  const started = performance.now();
  for (let b = 0; b < BATCHES; b++) {
    await Promise.all(
      Array.from({ length: BATCH }, (_, i) => gw.emit({ ...BENCH_EVENT, id: `${b}-${i}` })),
    );
  }
  while (delivered() < BATCH * BATCHES) await new Promise((r) => setImmediate(r));
  const rate = (BATCH * BATCHES) / ((performance.now() - started) / 1000);
  await gw.close();
  return rate;
}

async function latency(journalDir) {
  const { gw } = await gateway(journalDir);
  const samples = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t = performance.now();
    await gw.emit({ ...BENCH_EVENT, id: `l${i}` });
    samples.push(performance.now() - t);
  }
  await gw.close();
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

module.exports = {
  name: 'journal',
  title: '(i) local emit -> delivery with the local journal vs without, batches of 1,000',
  goal: 'ratio >= 0.5',
  async run() {
    const dirs = [];
    const dir = () => {
      const d = mkdtempSync(join(tmpdir(), 'eg-bench-journal-'));
      dirs.push(d);
      return d;
    };
    try {
      await throughput(dir()); // warm-up
      const ours = [];
      const baseline = [];
      for (let round = 0; round < ROUNDS; round++) {
        baseline.push(await throughput(undefined));
        ours.push(await throughput(dir()));
      }
      const lat = await latency(dir());
      const o = median(ours);
      const b = median(baseline);
      return {
        ours: { value: o, unit: 'events/s', label: 'with LocalJournal' },
        baseline: { value: b, unit: 'events/s', label: 'same gateway, no journal' },
        ratio: o / b,
        difference: `one journaled emit: p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms`,
        met: o / b >= 0.5,
      };
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  },
};
