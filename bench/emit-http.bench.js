// (c) emit to an HTTP function served by a separate process against raw undici requests to the
// same server at the same concurrency.
const { Agent, request } = require('undici');
const { createGateway, MemoryStore, HttpProvider } = require('../dist');
const { median, startFunctionServer } = require('./harness');

const CONCURRENCY = 32;
const REQUESTS = 20_000;
const ROUNDS = 5;

async function rawUndici(url, event) {
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 30_000 });
  let next = 0;
  const worker = async () => {
    while (next++ < REQUESTS) {
      // Serialised per request, as a caller with a new event each time must.
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
        body: JSON.stringify({ ...event, id: String(next) }),
        dispatcher: agent,
      });
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      await res.body.text();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  return REQUESTS / seconds;
}

async function viaGateway(url, event) {
  const gateway = createGateway(new MemoryStore(), {
    resyncInterval: 0,
    concurrency: CONCURRENCY,
    functionConcurrency: CONCURRENCY,
    queueSize: REQUESTS,
    providers: { http: new HttpProvider({ connections: CONCURRENCY }) },
  });
  await gateway.registerFunction({ functionId: 'fn', type: 'http', provider: { url } });
  await gateway.createEventType({ name: 'user.created' });
  await gateway.subscribe({ eventType: 'user.created', functionId: 'fn' });
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

module.exports = {
  name: 'emit-http',
  title: `(c) emit to an HTTP function (other process) vs raw undici, concurrency ${CONCURRENCY}`,
  goal: 'ratio >= 0.9',
  async run() {
    const server = await startFunctionServer();
    const event = {
      specversion: '1.0',
      id: 'bench-1',
      source: '/bench',
      type: 'user.created',
      data: { n: 1 },
    };
    try {
      await rawUndici(server.url, event); // warm-up: connections, JIT
      await viaGateway(server.url, event);
      const ours = [];
      const baseline = [];
      for (let round = 0; round < ROUNDS; round++) {
        baseline.push(await rawUndici(server.url, event));
        ours.push(await viaGateway(server.url, event));
      }
      const o = median(ours);
      const b = median(baseline);
      return {
        ours: { value: o, unit: 'deliveries/s', label: 'gateway.emit -> http function' },
        baseline: { value: b, unit: 'requests/s', label: 'undici.request, same server' },
        ratio: o / b,
        met: o / b >= 0.9,
      };
    } finally {
      server.stop();
    }
  },
};
