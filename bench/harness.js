// Shared helpers of the benchmarks: each benchmark measures ours and its baseline in the same run.
const { fork } = require('node:child_process');
const { join } = require('node:path');

/** Starts bench/function-server.js in its own process, answering `answer` (JSON text). */
async function startFunctionServer(answer) {
  const args = answer === undefined ? [] : [answer];
  const child = fork(join(__dirname, 'function-server.js'), args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`function server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill() };
}

/**
 * Median operations per second of each function, measured by tinybench with warm-up, interleaved
 * runs (ours, baseline, ours, ...) so that drift on the machine hits both sides alike.
 */
async function opsPerSecond(fns, { time = 1000, warmupTime = 300, rounds = 3 } = {}) {
  // Here, not at the top: tinybench is ESM only, which Jest cannot require (the chart's unit test
  // loads this file for `median`).
  const { Bench } = require('tinybench');
  const runs = Object.fromEntries(Object.keys(fns).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of Object.entries(fns)) {
      const bench = new Bench({ time, warmupTime, warmup: true });
      bench.add(name, fn);
      await bench.run();
      const result = bench.tasks[0].result;
      if (!result || result.state !== 'completed') {
        throw new Error(`${name}: ${result?.error?.stack ?? result?.state ?? 'no result'}`);
      }
      runs[name].push(1000 / result.latency.p50);
    }
  }
  return Object.fromEntries(Object.entries(runs).map(([name, values]) => [name, median(values)]));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A formatted figure: 1234567 -> "1.23 M". */
function format(value, unit) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const [scaled, suffix] =
    abs >= 1e6 ? [value / 1e6, ' M'] : abs >= 1e4 ? [value / 1e3, ' k'] : [value, ' '];
  return `${scaled.toFixed(abs >= 100 && suffix === ' ' ? 0 : 2)}${suffix}${unit}`.trim();
}

/** The event every delivery benchmark emits (a fresh copy with its own id per emit, where needed). */
const BENCH_EVENT = Object.freeze({
  specversion: '1.0',
  id: 'bench-1',
  source: '/bench',
  type: 'user.created',
  data: Object.freeze({ n: 1 }),
});

/**
 * The filter benchmarks' typical 5-field pattern (a prefix, an anything-but, a numeric range, two
 * value lists), distinct per subscription `i` by its anything-but: every one matches
 * FILTER_EVENT but subscription 42's.
 */
function benchFilter(i) {
  return {
    source: [{ prefix: '/shop/' }],
    subject: [{ 'anything-but': `order-${i}` }],
    data: {
      amount: [{ numeric: ['>=', 100, '<', 1000] }],
      country: ['FR', 'DE'],
      tier: ['gold', 'platinum'],
    },
  };
}

/** The event the filter benchmarks match against benchFilter's patterns. */
const FILTER_EVENT = Object.freeze({
  ...BENCH_EVENT,
  source: '/shop/eu',
  subject: 'order-42',
  data: Object.freeze({ amount: 120, country: 'FR', tier: 'gold', tags: Object.freeze(['new']) }),
});

/** A gateway on a MemoryStore with one http function `fn` at `url` subscribed to the event's type. */
async function gatewayToHttpFunction(url, options = {}) {
  // Required here, not at the top: require-cost measures loading the package in a fresh process.
  const { createGateway, MemoryStore } = require('../dist');
  const gateway = createGateway(new MemoryStore(), { resyncInterval: 0, ...options });
  await gateway.registerFunction({ functionId: 'fn', type: 'http', provider: { url } });
  await gateway.createEventType({ name: BENCH_EVENT.type });
  await gateway.subscribe({ eventType: BENCH_EVENT.type, functionId: 'fn' });
  return gateway;
}

/**
 * Latencies, in ms, of a write on one gateway to routable on another: `makeStore()` gives each
 * its own store on the same server; `samples` measured after 50 of warm-up.
 */
async function propagationLatencies(makeStore, samples) {
  const { createGateway } = require('../dist');
  const options = { resyncInterval: 0, prefix: '/bench-propagation' };
  const a = createGateway(makeStore(), options);
  const b = createGateway(makeStore(), options);
  await Promise.all([a.ready(), b.ready()]);
  const latencies = [];
  for (let i = 0; i < samples + 50; i++) {
    const routable = new Promise((resolve) => b.once('config.changed', resolve));
    const started = performance.now();
    await Promise.all([
      a.registerFunction({
        functionId: `f${i}`,
        type: 'http',
        provider: { url: 'http://127.0.0.1:1/' },
      }),
      routable,
    ]);
    if (i >= 50) latencies.push(performance.now() - started);
  }
  for (const g of [a, b]) {
    await g.close();
    await g.store.close();
  }
  return latencies;
}

/** The result of a propagation benchmark: latencies of ours and of the raw watch, in ms. */
function propagationResult(ours, raw) {
  const o = { p50: percentile(ours, 50), p99: percentile(ours, 99) };
  const b = { p50: percentile(raw, 50), p99: percentile(raw, 99) };
  return {
    ours: { value: o.p99, unit: 'ms p99', label: `p50 ${o.p50.toFixed(2)} ms` },
    baseline: { value: b.p99, unit: 'ms p99', label: `p50 ${b.p50.toFixed(2)} ms` },
    ratio: o.p99 / b.p99,
    difference: `p99 +${(o.p99 - b.p99).toFixed(2)} ms, p50 +${(o.p50 - b.p50).toFixed(2)} ms`,
    details: { ours: o, raw: b },
    met: o.p99 - b.p99 <= 1,
  };
}

/** The result of a cold-start benchmark over `subscriptions` subscriptions. */
function coldStartResult(ours, raw, subscriptions, rawLabel, extra = {}) {
  const perSubscription = ours.heapBytes / subscriptions;
  return {
    ours: {
      value: ours.ms,
      unit: 'ms',
      label: `${Math.round(perSubscription)} B heap per subscription`,
    },
    baseline: { value: raw.ms, unit: 'ms', label: rawLabel },
    ratio: ours.ms / raw.ms,
    difference: [`${Math.round(perSubscription)} B/subscription`, extra.difference]
      .filter(Boolean)
      .join('; '),
    details: { ours, raw, perSubscription, ...extra.details },
    met: ours.ms < 3000 && perSubscription < 1024,
  };
}

/**
 * One cold start in this process (run with --expose-gc): `ready()` of a gateway on `store` under
 * `prefix` when `mode` is 'gateway', else `rawRead()`; prints the time and the heap it leaves.
 */
async function measureColdStart(store, mode, prefix, rawRead) {
  const { createGateway } = require('../dist');
  await store.get('/warm'); // connect first: the connection is not what is measured
  global.gc();
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  let keep;
  if (mode === 'gateway') {
    // A cold start measures how long loading takes: no ready() deadline to fail it on a loaded machine.
    keep = createGateway(store, { resyncInterval: 0, prefix, readyTimeout: 3_600_000 });
    await keep.ready();
  } else {
    keep = await rawRead();
  }
  const ms = performance.now() - started;
  global.gc();
  const heapBytes = process.memoryUsage().heapUsed - before;
  process.stdout.write(
    JSON.stringify({ ms, heapBytes, entries: mode === 'gateway' ? keep.revision : keep.length }),
  );
  if (mode === 'gateway') await keep.close();
  await store.close();
}

/**
 * Modules the package does not ship a file of their own for (the Router, the ConnectionRunner):
 * `contents`, exports from lib/ (`export { Router } from './router/router';`), bundled with
 * esbuild and compiled as a module of this folder, so that the packages it uses resolve.
 */
function loadInternals(contents) {
  const Module = require('node:module');
  const { buildSync } = require('esbuild');
  const [output] = buildSync({
    stdin: { contents, resolveDir: join(__dirname, '../lib'), loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    write: false,
  }).outputFiles;
  const filename = join(__dirname, 'internals.js');
  const internals = new Module(filename, module);
  internals.filename = filename;
  internals.paths = Module._nodeModulePaths(__dirname);
  internals._compile(output.text, filename);
  return internals.exports;
}

module.exports = {
  loadInternals,
  propagationLatencies,
  propagationResult,
  coldStartResult,
  measureColdStart,
  opsPerSecond,
  median,
  percentile,
  format,
  startFunctionServer,
  gatewayToHttpFunction,
  BENCH_EVENT,
  benchFilter,
  FILTER_EVENT,
};
