// (c) emit to an HTTP function served by a separate process against the fastest plain undici
// client for the same work: one Pool per origin, `pool.request({ path })`, each event serialised
// per request, the same concurrency. The gateway runs with its default options but `concurrency`.
const { Pool } = require('undici');
const { BENCH_EVENT, gatewayToHttpFunction, median, startFunctionServer } = require('./harness');

const REQUESTS = 20_000;
const ROUNDS = 5;

async function rawPool(url, event, concurrency) {
  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, { connections: concurrency, keepAliveTimeout: 30_000 });
  let next = 0;
  const worker = async () => {
    while (next++ < REQUESTS) {
      const res = await pool.request({
        path: pathname,
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
        // Serialised per request, as a caller with a new event each time must.
        body: JSON.stringify({ ...event, id: String(next) }),
      });
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      await res.body.text();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return REQUESTS / seconds;
}

async function viaGateway(url, event, concurrency) {
  const gateway = await gatewayToHttpFunction(url, { concurrency, queueSize: REQUESTS });
  const started = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    await gateway.emit({ ...event, id: String(i) });
    // Events reach a real gateway through I/O: let responses in between, as a producer would.
    if (i % 256 === 255) await new Promise((resolve) => setImmediate(resolve));
  }
  while (gateway.metrics().deliveriesPending > 0)
    await new Promise((resolve) => setTimeout(resolve, 1));
  const seconds = (performance.now() - started) / 1000;
  const m = gateway.metrics();
  await gateway.close();
  if (m.deliveriesSucceeded !== REQUESTS)
    throw new Error(`emit-http: ${m.deliveriesSucceeded} of ${REQUESTS} delivered`);
  return REQUESTS / seconds;
}

function benchmark(concurrency) {
  return {
    name: `emit-http-${concurrency}`,
    title: `(c) emit to an HTTP function (other process) vs a raw undici Pool, concurrency ${concurrency}`,
    goal: 'ratio >= 0.9',
    async run() {
      const server = await startFunctionServer();
      const event = BENCH_EVENT;
      try {
        await rawPool(server.url, event, concurrency); // warm-up: connections, JIT
        await viaGateway(server.url, event, concurrency);
        const ours = [];
        const baseline = [];
        for (let round = 0; round < ROUNDS; round++) {
          baseline.push(await rawPool(server.url, event, concurrency));
          ours.push(await viaGateway(server.url, event, concurrency));
        }
        const o = median(ours);
        const b = median(baseline);
        return {
          ours: { value: o, unit: 'deliveries/s', label: 'gateway.emit -> http function' },
          baseline: { value: b, unit: 'requests/s', label: 'undici Pool.request, same server' },
          ratio: o / b,
          met: o / b >= 0.9,
        };
      } finally {
        server.stop();
      }
    },
  };
}

module.exports = [benchmark(32), benchmark(64)];
