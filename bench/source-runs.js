// The measuring shared by bench/sources.bench.js (issue 27's connections against their raw
// clients): a meter from the first message to the last acknowledgement (time and this process's
// CPU), the gateway side (a connection into a local function), rounds alternated after a warm-up,
// and the result with the fastest raw way as the baseline.
const { median } = require('./harness');

const ROUNDS = 3;
const GOAL = 0.8;
/**
 * The connection's maxInFlight, which is also its AMQP prefetch (and the raw consumer's): the
 * default, 64, unless SOURCES_MAX_IN_FLIGHT says otherwise (to see how much of a gap is waiting).
 */
const PREFETCH = Number(process.env.SOURCES_MAX_IN_FLIGHT ?? 64);
const EVENT_TYPE = 'bench.message';
/** The body of message `i`: small JSON, as a producer of orders would send. */
const body = (i) => JSON.stringify({ n: i, sku: `sku-${i % 100}`, qty: (i % 7) + 1 });

/**
 * Counts messages: the first starts the clock and the CPU meter, the `n`th stops them. `done`
 * resolves to the rate (messages/s over the n - 1 intervals) and this process's CPU µs per message.
 */
function meter(n) {
  let seen = 0;
  let started = 0;
  let cpu;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  return {
    done,
    get seen() {
      return seen;
    },
    /** One message handled. */
    count() {
      if (seen++ === 0) {
        started = performance.now();
        cpu = process.cpuUsage();
      }
    },
    /** Ends the measure now: call once the nth message is acknowledged. */
    end() {
      const { user, system } = process.cpuUsage(cpu);
      finish({
        rate: (n - 1) / ((performance.now() - started) / 1000),
        cpuUs: (user + system) / n,
      });
    },
  };
}

/** Polls (every 2 ms) until `check()`; fails after `timeout` ms naming `what`. */
async function until(check, what, timeout) {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * Ours: a gateway on a memory store whose local function counts and parses what it receives, and
 * one connection; measured until the nth event was delivered and every message acknowledged
 * (the connection's health: n accepted, none in flight).
 */
async function viaGateway(connection, n) {
  const { createGateway, MemoryStore } = require('../dist');
  const gateway = createGateway(new MemoryStore(), { resyncInterval: 0 });
  const m = meter(n);
  let bad = 0;
  await gateway.registerFunction({
    functionId: 'count',
    handler: (event) => {
      if (typeof event.data?.n !== 'number') bad++;
      m.count();
    },
  });
  await gateway.createEventType({ name: EVENT_TYPE });
  await gateway.subscribe({ eventType: EVENT_TYPE, functionId: 'count' });
  const joined = performance.now();
  await gateway.createConnection({ ...connection, eventType: EVENT_TYPE, maxInFlight: PREFETCH });
  const health = () => gateway.health().connections?.[0] ?? {};
  try {
    await until(() => m.seen > 0, 'the first event', 60_000);
    const firstMs = performance.now() - joined;
    await until(
      () => m.seen >= n && health().accepted >= n && health().inFlight === 0,
      `${n} events accepted and acknowledged (${m.seen} delivered, ${JSON.stringify(health())})`,
      300_000,
    );
    m.end();
    if (bad) throw new Error(`${bad} events without their data`);
    return { ...(await m.done), firstMs };
  } finally {
    await gateway.close();
  }
}

/** The result of one source: medians of the rounds, the baseline the fastest raw way. */
function sourceResult(rounds, rawLabels, oursLabel) {
  const med = (side, key) => median(rounds[side].map((r) => r[key]));
  const rawWays = Object.keys(rawLabels);
  const fastest = rawWays.reduce((a, b) => (med(b, 'rate') > med(a, 'rate') ? b : a));
  const o = med('ours', 'rate');
  const b = med(fastest, 'rate');
  const [oc, bc] = [med('ours', 'cpuUs'), med(fastest, 'cpuUs')];
  const range = (side) => rounds[side].map((r) => Math.round(r.rate));
  return {
    ours: { value: o, unit: 'messages/s', label: oursLabel },
    baseline: { value: b, unit: 'messages/s', label: rawLabels[fastest] },
    ratio: o / b,
    difference: `CPU ${oc.toFixed(1)} vs ${bc.toFixed(1)} µs/message (${(oc / bc).toFixed(2)}x)`,
    details: {
      rounds: Object.fromEntries(Object.keys(rounds).map((side) => [side, range(side)])),
      cpuUsPerMessage: Object.fromEntries(
        Object.keys(rounds).map((side) => [side, rounds[side].map((r) => +r.cpuUs.toFixed(2))]),
      ),
      rates: Object.fromEntries(Object.keys(rounds).map((side) => [side, med(side, 'rate')])),
      firstMessageMs: Object.fromEntries(
        Object.keys(rounds).map((side) => [side, med(side, 'firstMs')]),
      ),
      baseline: fastest,
    },
    met: o / b >= GOAL,
  };
}

/** Warm-up, then ROUNDS rounds alternating every raw way and ours; each gets fresh messages. */
async function alternate(ways) {
  const rounds = Object.fromEntries(Object.keys(ways).map((side) => [side, []]));
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [side, run] of Object.entries(ways)) {
      const result = await run();
      if (round > 0) rounds[side].push(result);
    }
  }
  return rounds;
}

/**
 * One source's benchmark: `start()` starts its server (with `stop()`); `ways(server)` prepares
 * what the rounds read and gives each raw way and `ours`, each a function measuring one round;
 * `labels` names the raw ways.
 */
function sourceBench({ name, title, start, ways, labels, oursLabel }) {
  return {
    name,
    title,
    goal: `ratio >= ${GOAL}`,
    async run() {
      const server = await start();
      try {
        return sourceResult(await alternate(await ways(server)), labels, oursLabel);
      } finally {
        await server.stop();
      }
    },
  };
}

module.exports = { sourceBench, meter, viaGateway, body, PREFETCH };
