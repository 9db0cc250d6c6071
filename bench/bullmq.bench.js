// (i) Against the peer a Node team would otherwise pick for durable async work: BullMQ on Redis 7
// (Debian's `redis-server`, started here on a free loopback port with the append-only file synced
// before each reply, `appendfsync always`, and once with `everysec`), doing the same work as the
// gateway with its LocalJournal (synced before `emit` resolves): each ~1 KB event added as a job,
// a worker POSTing it with undici to the same HTTP function (its own process), 64 in flight, one
// process. Throughput to the last delivery, then the latency from emit (or `queue.add`) to the
// function's receipt at a fixed offered load: half of BullMQ's maximum, so neither side builds a
// backlog. BullMQ and ioredis are dev dependencies of the benchmarks only.
const { fork, spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { createServer } = require('node:http');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { BENCH_EVENT, gatewayToHttpFunction, median } = require('./harness');

const IN_FLIGHT = 64;
const EVENTS = 10_000;
const ROUNDS = 3;
const LATENCY_SECONDS = 3;
/** ~1 KB events: the emit time travels in `data.at` (process.hrtime, one clock per machine). */
const PADDING = 'x'.repeat(900);
const event = (id) => ({
  ...BENCH_EVENT,
  id: String(id),
  data: { at: String(process.hrtime.bigint()), padding: PADDING },
});

// The HTTP function, in its own process (this file forked): counts what it receives and how long
// each event took from emit to here.
if (process.env.EG_BULLMQ_FUNCTION === '1') {
  let latencies = [];
  let received = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const arrived = process.hrtime.bigint();
      const { data } = JSON.parse(Buffer.concat(chunks).toString());
      latencies.push(Number(arrived - BigInt(data.at)) / 1e6);
      received++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 });
      res.end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', () => {
    const sorted = latencies.sort((a, b) => a - b);
    const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
    process.send({ received, p50: at(50), p99: at(99) });
    latencies = [];
    received = 0;
  });
  process.on('disconnect', () => process.exit(0));
}

async function startFunction() {
  const child = fork(__filename, [], {
    env: { ...process.env, EG_BULLMQ_FUNCTION: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  return {
    url: `http://127.0.0.1:${port}/`,
    /** What it received since the last call, and the latencies' p50 and p99 (ms). */
    stats: () =>
      new Promise((resolve) => {
        child.once('message', resolve);
        child.send('stats');
      }),
    stop: () => child.kill(),
  };
}

/** redis-server on a free loopback port, append-only file synced `fsync` ('always'|'everysec'). */
async function startRedis(fsync) {
  const { freePort } = require('../dist/dev');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'eg-bench-redis-'));
  const child = spawn(
    'redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
      ...['--appendonly', 'yes', '--appendfsync', fsync],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve, reject) => {
    child.once('error', (e) =>
      reject(
        new Error(`redis-server could not start (apt-get install redis-server): ${e.message}`),
      ),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code})`)));
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (/Ready to accept connections/.test(out)) resolve();
    });
  });
  child.removeAllListeners('exit');
  child.stdout.resume();
  return {
    connection: { host: '127.0.0.1', port, maxRetriesPerRequest: null },
    stop: async () => {
      await new Promise((done) => {
        child.once('exit', done);
        child.kill('SIGKILL');
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Until `done()`, polling every ms. */
async function until(done) {
  while (!done()) await new Promise((r) => setTimeout(r, 1));
}

/**
 * Offers `rate` events/s to `submit` for `seconds` (a slice every ms, not waiting for each other),
 * then waits for `delivered() >= count`.
 */
async function offer(submit, rate, seconds, delivered) {
  const started = performance.now();
  let sent = 0;
  const pending = [];
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; sent < due; sent++) pending.push(submit(event(`o${sent}`)));
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  await until(() => delivered() >= sent);
}

/** The gateway with a LocalJournal: a side of the comparison. */
async function gatewaySide(url) {
  const { LocalJournal } = require('../dist');
  const dir = mkdtempSync(join(tmpdir(), 'eg-bench-journal-'));
  const gw = await gatewayToHttpFunction(url, {
    concurrency: IN_FLIGHT,
    queueSize: 100_000,
    journal: new LocalJournal({ directory: dir }),
  });
  await gw.ready();
  return {
    submit: (e) => gw.emit(e),
    delivered: () => gw.metrics().deliveriesSucceeded,
    close: async () => {
      await gw.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let queues = 0;
/** BullMQ: a Queue, and a Worker POSTing each job's event with undici, IN_FLIGHT at a time. */
async function bullmqSide(url, connection) {
  const { Queue, Worker } = require('bullmq');
  const { Pool } = require('undici');
  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, { connections: IN_FLIGHT, keepAliveTimeout: 30_000 });
  const name = `bench-${++queues}`;
  const queue = new Queue(name, {
    connection,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: false, attempts: 3 },
  });
  let delivered = 0;
  const worker = new Worker(
    name,
    async (job) => {
      const res = await pool.request({
        path: pathname,
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
        body: JSON.stringify(job.data),
      });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      delivered++;
    },
    { connection, concurrency: IN_FLIGHT },
  );
  await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
  return {
    submit: (e) => queue.add('event', e),
    delivered: () => delivered,
    close: async () => {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await pool.close();
    },
  };
}

/** IN_FLIGHT producers, each submitting again once its last submit resolved; events/s delivered. */
async function throughput(side) {
  const before = side.delivered();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < EVENTS) await side.submit(event(next++));
    }),
  );
  await until(() => side.delivered() - before >= EVENTS);
  return EVENTS / ((performance.now() - started) / 1000);
}

function benchmark(fsync) {
  return {
    name: `bullmq-${fsync}`,
    title: `(i) emit -> HTTP function with LocalJournal vs BullMQ on Redis 7 (appendfsync ${fsync}), ${IN_FLIGHT} in flight, ~1 KB events`,
    goal: 'ratio >= 3.5, p99 at half of BullMQ max <= 0.1x',
    async run() {
      const fn = await startFunction();
      const redis = await startRedis(fsync);
      try {
        const sides = {
          gateway: () => gatewaySide(fn.url),
          bullmq: () => bullmqSide(fn.url, redis.connection),
        };
        const rates = { gateway: [], bullmq: [] };
        for (let round = -1; round < ROUNDS; round++) {
          for (const [name, make] of Object.entries(sides)) {
            const side = await make();
            const rate = await throughput(side);
            await side.close();
            if (round >= 0) rates[name].push(rate);
          }
        }
        await fn.stats(); // reset
        const ours = median(rates.gateway);
        const theirs = median(rates.bullmq);
        // Each round's pair ran back to back: the median of their ratios resists a busy machine.
        const ratio = median(rates.gateway.map((r, i) => r / rates.bullmq[i]));
        const load = Math.round(theirs / 2);
        const latency = {};
        for (const [name, make] of Object.entries(sides)) {
          const side = await make();
          await offer(side.submit, load, LATENCY_SECONDS, side.delivered);
          await side.close();
          latency[name] = await fn.stats();
        }
        const p99Ratio = latency.gateway.p99 / latency.bullmq.p99;
        return {
          ours: { value: ours, unit: 'events/s', label: 'gateway + LocalJournal' },
          baseline: { value: theirs, unit: 'events/s', label: `BullMQ, appendfsync ${fsync}` },
          ratio,
          difference: `emit -> delivery at ${load}/s: gateway p50 ${latency.gateway.p50.toFixed(2)} ms, p99 ${latency.gateway.p99.toFixed(2)} ms; BullMQ p50 ${latency.bullmq.p50.toFixed(2)} ms, p99 ${latency.bullmq.p99.toFixed(2)} ms (p99 ratio ${p99Ratio.toFixed(2)})`,
          details: { rates, load, latency },
          met: ratio >= 3.5 && p99Ratio <= 0.1,
        };
      } finally {
        fn.stop();
        await redis.stop();
      }
    },
  };
}

module.exports = [benchmark('always'), benchmark('everysec')];
