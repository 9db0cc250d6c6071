// `node bench/journal-overlap.js [events] [rounds] [offered/s]`: the LocalJournal with one synced
// wave in flight at a time against two (its default), alternated in one process, emit -> HTTP
// function (its own process): 64 producers each emitting again once its last emit resolved, then
// a fixed offered load. Counts the synced batches issued while another batch (a lazy one of
// finished marks, or a wave) was in flight: those would have waited for its callback.
const { mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const {
  gatewayToHttpFunction,
  startFunctionServer,
  BENCH_EVENT,
  median,
  percentile,
} = require('./harness');

const EVENTS = Number(process.argv[2] ?? 6000);
const ROUNDS = Number(process.argv[3] ?? 5);
const RATE = Number(process.argv[4] ?? 2000);
const PRODUCERS = 64;

async function journaled(url, inFlight) {
  const { LocalJournal } = require('../dist');
  const dir = mkdtempSync(join(os.tmpdir(), 'eg-overlap-'));
  const journal = new LocalJournal({ directory: dir });
  journal.wavesInFlight = inFlight; // private; 2 by default
  const gw = await gatewayToHttpFunction(url, {
    concurrency: PRODUCERS,
    queueSize: EVENTS,
    journal,
  });
  await gw.ready();
  const counts = { synced: 0, overlapped: 0 };
  let writing = 0;
  const batch = journal.db.batch.bind(journal.db);
  journal.db.batch = (ops, options) => {
    if (options?.sync) {
      counts.synced++;
      if (writing > 0) counts.overlapped++;
    }
    writing++;
    return batch(ops, options).finally(() => writing--);
  };
  const close = async () => {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { gw, counts, close };
}

async function closedLoop(url, inFlight) {
  const { gw, counts, close } = await journaled(url, inFlight);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (next++ < EVENTS) await gw.emit({ ...BENCH_EVENT, id: String(next) });
    }),
  );
  while (gw.metrics().deliveriesPending > 0) await new Promise((r) => setTimeout(r, 1));
  const rate = EVENTS / ((performance.now() - started) / 1000);
  await close();
  return { rate, ...counts };
}

async function offered(url, inFlight, seconds = 2) {
  const { gw, counts, close } = await journaled(url, inFlight);
  const latencies = [];
  const pending = [];
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * RATE);
    for (; sent < due; sent++) {
      const t = performance.now();
      const emitted = gw.emit({ ...BENCH_EVENT, id: String(sent) });
      pending.push(emitted.then(() => latencies.push(performance.now() - t)));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  while (gw.metrics().deliveriesPending > 0) await new Promise((r) => setTimeout(r, 1));
  await close();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), emits: sent, ...counts };
}

(async () => {
  const server = await startFunctionServer();
  const runs = { 1: [], 2: [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of round % 2 ? [2, 1] : [1, 2]) {
        runs[n].push({
          closed: await closedLoop(server.url, n),
          offered: await offered(server.url, n),
        });
      }
    }
  } finally {
    server.stop();
  }
  for (const n of [1, 2]) {
    const r = runs[n];
    const list = (f, d = 1) => r.map((x) => f(x).toFixed(d)).join(', ');
    console.log(
      `${n} in flight: closed loop ${list((x) => x.closed.rate, 0)} emits/s (median ${median(r.map((x) => x.closed.rate)).toFixed(0)}), ` +
        `synced batches issued behind another ${r.map((x) => `${x.closed.overlapped}/${x.closed.synced}`).join(', ')}; ` +
        `at ${RATE}/s p50 ${list((x) => x.offered.p50, 2)} ms, p99 ${list((x) => x.offered.p99, 1)} ms (medians ${median(r.map((x) => x.offered.p50)).toFixed(2)}, ${median(r.map((x) => x.offered.p99)).toFixed(1)}), ` +
        `synced batches per 64 emits ${list((x) => (x.offered.synced * 64) / x.offered.emits, 1)}`,
    );
  }
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
})();
