// (i) The local journal. `journal`: local emit -> delivery with it against the same gateway
// without one (batches of 1,000 concurrent emits, each resolved once recorded), and the latency of
// one journaled emit (one sync each: nothing to share it with). `journal-http`: 64 producers, each
// emitting again as soon as its last emit resolved, to an HTTP function (its own process), with
// and without the journal. `journal-engine`: the same producers' journaled emits per second
// against raw classic-level writes (sync) of the same bytes in the same batch sizes.
const { mkdtempSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const os = require('node:os');
const { tmpdir } = os;
const { join } = require('node:path');
const {
  BENCH_EVENT,
  gatewayToHttpFunction,
  median,
  percentile,
  startFunctionServer,
} = require('./harness');

const BATCH = 1000;
const BATCHES = 20;
const ROUNDS = 5;
const LATENCY_SAMPLES = 500;

async function gateway(journalDir, journal) {
  const { createGateway, LocalJournal, MemoryStore } = require('../dist');
  let delivered = 0;
  const gw = createGateway(new MemoryStore(), {
    resyncInterval: 0,
    queueSize: 100_000,
    ...(journalDir ? { journal: new LocalJournal({ directory: journalDir }) } : {}),
    ...(journal ? { journal } : {}),
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

/** A fresh directory for a journal, removed by `cleanup()`. */
function directories() {
  const dirs = [];
  return {
    dir() {
      const d = mkdtempSync(join(tmpdir(), 'eg-bench-journal-'));
      dirs.push(d);
      return d;
    },
    cleanup: () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })),
  };
}

const PRODUCERS = 64;
const HTTP_EVENTS = 20_000;

/**
 * Times the journal's synced writes, seen from outside (the journal is not changed): `disk`, from
 * the batch call to its callback (the sync, and the wait for the event loop to see it), and
 * `between`, from one callback to the next batch call (the emits the sync resolved running on,
 * and whatever else the loop did). A wave lasts their sum; the raw baseline's lasts `disk` alone.
 * `batches` (when `keep`): the values each synced batch put, to replay raw.
 */
function timeWaves(journal, keep = false) {
  const waves = [];
  const batches = [];
  let last = 0;
  const batch = journal.db.batch.bind(journal.db);
  journal.db.batch = (ops, options) => {
    if (!options?.sync) return batch(ops, options);
    const issued = performance.now();
    if (keep) batches.push(ops.filter((op) => op.type === 'put').map((op) => op.value));
    const wave = { between: last ? issued - last : undefined, disk: 0 };
    waves.push(wave);
    return batch(ops, options).then((result) => {
      last = performance.now();
      wave.disk = last - issued;
      return result;
    });
  };
  const med = (key) => median(waves.map((w) => w[key]).filter((v) => v !== undefined));
  return { batches, summary: () => ({ disk: med('disk'), between: med('between') }) };
}

/** CPU time (user + system, this process: the gateway and its threads) per event, in µs. */
function cpuPer(events, since) {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / events;
}

/**
 * CPU time so far of this process's main thread and of its other threads (libuv's pool, where
 * LevelDB writes and syncs, LevelDB's compaction thread, V8's helpers), in µs, from
 * /proc/self/task (Linux; undefined elsewhere). Clock ticks: 10 ms each, so only long loops.
 */
function threadCpu() {
  try {
    let main = 0;
    let other = 0;
    for (const task of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
      if (Number(task) === process.pid) main += ticks;
      else other += ticks;
    }
    return { main: main * 10_000, other: other * 10_000 };
  } catch {
    return undefined;
  }
}

/**
 * PRODUCERS producers, each emitting again as soon as its last emit resolved, `events` in all,
 * into `gw`; resolves once `done()`; events/s, emit latencies (ms), and the journal's syncs.
 */
async function producers(gw, journal, events, done) {
  const latencies = [];
  const syncs = journal?.syncs ?? 0;
  let next = 0;
  const producer = async () => {
    while (next++ < events) {
      const t = performance.now();
      await gw.emit({ ...BENCH_EVENT, id: String(next) });
      latencies.push(performance.now() - t);
      // Without a journal an emit resolves at once: let deliveries in now and then.
      if (!journal && next % 256 === 0) await new Promise((r) => setImmediate(r));
    }
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  const byThread = threadCpu();
  await Promise.all(Array.from({ length: PRODUCERS }, producer));
  while (!done()) await new Promise((r) => setTimeout(r, 1));
  const rate = events / ((performance.now() - started) / 1000);
  const after = threadCpu();
  const threads = byThread &&
    after && {
      main: (after.main - byThread.main) / events,
      other: (after.other - byThread.other) / events,
    };
  return {
    rate,
    latencies,
    syncs: (journal?.syncs ?? 0) - syncs,
    cpu: cpuPer(events, cpu),
    threads,
  };
}

/** The median CPU µs per event of the rounds' `thread` ('main' or 'other'); NaN off Linux. */
function threadsMedian(rounds, thread) {
  return median(rounds.map((r) => r.threads?.[thread] ?? NaN));
}

async function httpRound(url, journalDir) {
  const { LocalJournal } = require('../dist');
  const journal = journalDir ? new LocalJournal({ directory: journalDir }) : undefined;
  const gw = await gatewayToHttpFunction(url, {
    concurrency: PRODUCERS,
    queueSize: HTTP_EVENTS,
    ...(journal ? { journal } : {}),
  });
  await gw.ready();
  const waves = journal ? timeWaves(journal) : undefined;
  const result = await producers(
    gw,
    journal,
    HTTP_EVENTS,
    () => gw.metrics().deliveriesPending === 0,
  );
  const m = gw.metrics();
  await gw.close();
  if (m.deliveriesSucceeded !== HTTP_EVENTS) {
    throw new Error(`journal-http: ${m.deliveriesSucceeded} of ${HTTP_EVENTS} delivered`);
  }
  return { ...result, waves: waves?.summary() };
}

/**
 * Emit latencies (ms) at a fixed offered load: `rate` emits/s, started in a slice every
 * millisecond for `seconds` (not waiting for each other, so no backlog builds below capacity).
 */
async function offered(url, journalDir, rate, seconds = 2) {
  const { LocalJournal } = require('../dist');
  const journal = journalDir ? new LocalJournal({ directory: journalDir }) : undefined;
  const gw = await gatewayToHttpFunction(url, {
    concurrency: PRODUCERS,
    queueSize: HTTP_EVENTS,
    ...(journal ? { journal } : {}),
  });
  await gw.ready();
  const latencies = [];
  const pending = [];
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; sent < due; sent++) {
      const t = performance.now();
      pending.push(
        gw
          .emit({ ...BENCH_EVENT, id: String(sent) })
          .then(() => latencies.push(performance.now() - t)),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  while (gw.metrics().deliveriesPending > 0) await new Promise((r) => setTimeout(r, 1));
  await gw.close();
  return latencies;
}

const journalHttp = {
  name: 'journal-http',
  title: `(i) emit -> HTTP function, ${PRODUCERS} producers in flight, with LocalJournal vs without`,
  goal: 'ratio >= 0.9, journaled emit p99 <= 2 ms',
  async run() {
    const { dir, cleanup } = directories();
    const server = await startFunctionServer();
    try {
      await httpRound(server.url, undefined); // warm-up
      await httpRound(server.url, dir());
      const ours = [];
      const baseline = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Alternated, so that neither side always runs first after the other's garbage.
        if (round % 2) ours.push(await httpRound(server.url, dir()));
        baseline.push(await httpRound(server.url, undefined));
        if (round % 2 === 0) ours.push(await httpRound(server.url, dir()));
      }
      const o = median(ours.map((r) => r.rate));
      const b = median(baseline.map((r) => r.rate));
      // Each round's pair ran back to back: the median of their ratios resists a busy machine.
      const ratio = median(ours.map((r, i) => r.rate / baseline[i].rate));
      const p99 = median(ours.map((r) => percentile(r.latencies, 99)));
      const p50 = median(ours.map((r) => percentile(r.latencies, 50)));
      const perWave = median(ours.map((r) => (r.syncs * PRODUCERS) / HTTP_EVENTS));
      const cpu = {
        ours: median(ours.map((r) => r.cpu)),
        baseline: median(baseline.map((r) => r.cpu)),
        main: threadsMedian(ours, 'main'),
        other: threadsMedian(ours, 'other'),
        baselineMain: threadsMedian(baseline, 'main'),
      };
      const wave = {
        disk: median(ours.map((r) => r.waves.disk)),
        between: median(ours.map((r) => r.waves.between)),
      };
      // At half the no-journal maximum, neither side builds a backlog: the latency of a sync.
      const half = Math.round(b / 2);
      const steady = await offered(server.url, dir(), half);
      const plain = await offered(server.url, undefined, half);
      const atHalf = {
        journal: { p50: percentile(steady, 50), p99: percentile(steady, 99) },
        none: { p50: percentile(plain, 50), p99: percentile(plain, 99) },
      };
      return {
        ours: { value: o, unit: 'deliveries/s', label: 'emit -> http function, LocalJournal' },
        baseline: { value: b, unit: 'deliveries/s', label: 'same gateway, no journal' },
        ratio,
        difference: `${perWave.toFixed(2)} syncs per ${PRODUCERS} emits, a wave ${wave.disk.toFixed(2)} ms write + ${wave.between.toFixed(2)} ms between; CPU ${cpu.ours.toFixed(1)} vs ${cpu.baseline.toFixed(1)} µs/event (main thread ${cpu.main.toFixed(1)} + others ${cpu.other.toFixed(1)} vs main ${cpu.baselineMain.toFixed(1)}); journaled emit at full load p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms; at ${half}/s p50 ${atHalf.journal.p50.toFixed(2)} ms, p99 ${atHalf.journal.p99.toFixed(2)} ms (no journal p99 ${atHalf.none.p99.toFixed(2)} ms)`,
        details: {
          ours: ours.map((r) => r.rate),
          baseline: baseline.map((r) => r.rate),
          fullLoad: { p50, p99 },
          atHalf,
          perWave,
          wave,
          cpu,
          loadavg: os.loadavg(),
        },
        met: ratio >= 0.9 && atHalf.journal.p99 <= 2,
      };
    } finally {
      server.stop();
      cleanup();
    }
  },
};

const ENGINE_EVENTS = 100_000;
/** More rounds than elsewhere: a round lasts about a second, and the shared disk moves. */
const ENGINE_ROUNDS = 9;

/**
 * Journaled emits to a no-op local handler from PRODUCERS producers; also returns the synced
 * batches the journal wrote (their keys and value bytes), to replay raw.
 */
async function engineRound(journalDir) {
  const { LocalJournal } = require('../dist');
  const journal = new LocalJournal({ directory: journalDir });
  const { gw, delivered } = await gateway(undefined, journal);
  const waves = timeWaves(journal, true);
  const result = await producers(gw, journal, ENGINE_EVENTS, () => delivered() >= ENGINE_EVENTS);
  await gw.close();
  return { ...result, batches: waves.batches, waves: waves.summary() };
}

/**
 * The engine's limit for the same work: plain classic-level writing the same bytes (what the
 * journal's synced batches held), one synced batch after another; emits/s. `perSync` undefined:
 * in the journal's own batch sizes (one batch per synced batch it wrote); a number: in batches
 * of that many emits (PRODUCERS: one sync per wave of all the producers' emits).
 */
async function rawRound(dir, batches, emits, perSync) {
  const { ClassicLevel } = require('classic-level');
  const db = new ClassicLevel(dir, { valueEncoding: 'utf8' });
  await db.open();
  const sizes = batches.map((b) => b.reduce((n, v) => n + Buffer.byteLength(v), 0));
  if (perSync) {
    const waves = Math.ceil(emits / perSync);
    const bytes = sizes.reduce((n, v) => n + v, 0);
    sizes.splice(0, sizes.length, ...Array.from({ length: waves }, () => bytes / waves));
  }
  const values = new Map(sizes.map((n) => [n, 'x'.repeat(Math.round(n))]));
  const syncs = [];
  const started = performance.now();
  for (let wave = 0; wave < sizes.length; wave++) {
    const value = values.get(sizes[wave]);
    const t = performance.now();
    await db.batch([{ type: 'put', key: `s/${wave}`, value }], { sync: true });
    syncs.push(performance.now() - t);
  }
  const rate = emits / ((performance.now() - started) / 1000);
  await db.close();
  return { rate, disk: median(syncs) };
}

const journalEngine = {
  name: 'journal-engine',
  title: `(i) journaled emits/s (${PRODUCERS} producers, local handler) vs raw classic-level sync batches of the same bytes`,
  goal: 'ratio >= 0.8, one sync per wave',
  async run() {
    const { dir, cleanup } = directories();
    try {
      let previous = await engineRound(dir()); // warm-up
      const ours = [];
      const raw = [];
      for (let round = 0; round < ENGINE_ROUNDS; round++) {
        // Alternated: on odd rounds the raw writes go first (replaying the previous round's).
        // Both raw loops: in the journal's batch sizes, and in one batch per PRODUCERS emits.
        const both = async (batches) => ({
          same: await rawRound(dir(), batches, ENGINE_EVENTS),
          wave: await rawRound(dir(), batches, ENGINE_EVENTS, PRODUCERS),
        });
        if (round % 2) raw.push(await both(previous.batches));
        const r = await engineRound(dir());
        ours.push(r);
        if (round % 2 === 0) raw.push(await both(r.batches));
        previous = r;
      }
      const o = median(ours.map((r) => r.rate));
      const b = median(raw.map((r) => r.same.rate));
      const ratio = median(ours.map((r, i) => r.rate / raw[i].same.rate));
      const perWaveRate = median(raw.map((r) => r.wave.rate));
      const perWaveRatio = median(ours.map((r, i) => r.rate / raw[i].wave.rate));
      const wave = {
        disk: median(ours.map((r) => r.waves.disk)),
        between: median(ours.map((r) => r.waves.between)),
        raw: median(raw.map((r) => r.same.disk)),
        rawPerWave: median(raw.map((r) => r.wave.disk)),
      };
      const cpu = median(ours.map((r) => r.cpu));
      const threads = { main: threadsMedian(ours, 'main'), other: threadsMedian(ours, 'other') };
      const perWave = median(ours.map((r) => (r.syncs * PRODUCERS) / ENGINE_EVENTS));
      const bytes = median(
        ours.map(
          (r) =>
            r.batches.flat().reduce((n, v) => n + Buffer.byteLength(v), 0) /
            (ENGINE_EVENTS / PRODUCERS),
        ),
      );
      const p99 = median(ours.map((r) => percentile(r.latencies, 99)));
      return {
        ours: { value: o, unit: 'emits/s', label: 'journaled emits, local handler' },
        baseline: {
          value: b,
          unit: 'emits/s',
          label: 'raw classic-level sync batches, same bytes, same batch sizes',
        },
        ratio,
        difference: `${perWave.toFixed(2)} syncs per ${PRODUCERS} emits, ${Math.round(bytes)} B per ${PRODUCERS} emits; a synced batch ${wave.disk.toFixed(2)} ms write (issue to callback) + ${wave.between.toFixed(2)} ms from a callback to the next batch (raw write ${wave.raw.toFixed(2)} ms); raw in one batch per ${PRODUCERS} emits ${Math.round(perWaveRate)} emits/s, ratio ${perWaveRatio.toFixed(2)} (its write ${wave.rawPerWave.toFixed(2)} ms); CPU ${cpu.toFixed(1)} µs/emit (main thread ${threads.main.toFixed(1)}, others ${threads.other.toFixed(1)}); emit p99 ${p99.toFixed(2)} ms`,
        details: {
          ours: ours.map((r) => r.rate),
          raw: raw.map((r) => r.same.rate),
          rawPerWave: raw.map((r) => r.wave.rate),
          perWaveRatio,
          perWave,
          bytes,
          p99,
          wave,
          cpu,
          threads,
          loadavg: os.loadavg(),
        },
        met: ratio >= 0.8 && perWave <= 1.05,
      };
    } finally {
      cleanup();
    }
  },
};

const journalBatches = {
  name: 'journal',
  title: '(i) local emit -> delivery with the local journal vs without, batches of 1,000',
  goal: 'ratio >= 0.5',
  async run() {
    const { dir, cleanup } = directories();
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
      cleanup();
    }
  },
};

module.exports = [journalBatches, journalHttp, journalEngine];
