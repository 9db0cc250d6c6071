// Shared helpers of the benchmarks: each benchmark measures ours and its baseline in the same run.
const { fork } = require('node:child_process');
const { join } = require('node:path');
const { Bench } = require('tinybench');

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

module.exports = {
  opsPerSecond,
  median,
  percentile,
  format,
  startFunctionServer,
  gatewayToHttpFunction,
  BENCH_EVENT,
};
