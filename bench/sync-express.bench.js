// (d) A sync HTTP request through the Express adapter against an Express route that calls the
// same HTTP function with undici directly. Both apps run in this process; the function runs in
// its own; the load comes from undici clients at the same concurrency.
const express = require('express');
const { Agent, request } = require('undici');
const { createGateway, MemoryStore, HttpProvider, expressMiddleware } = require('../dist');
const { median, startFunctionServer } = require('./harness');

const CONCURRENCY = 16;
const REQUESTS = 8000;
const ROUNDS = 5;

function listen(app) {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function load(url) {
  const agent = new Agent({ connections: CONCURRENCY });
  let next = 0;
  const worker = async () => {
    while (next++ < REQUESTS) {
      const res = await request(url, { dispatcher: agent });
      const text = await res.body.text();
      if (res.statusCode !== 200 || text !== 'hello') throw new Error(`${res.statusCode} ${text}`);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const rate = REQUESTS / ((performance.now() - started) / 1000);
  await agent.close();
  return rate;
}

module.exports = {
  name: 'sync-express',
  title: `(d) sync request through the Express adapter vs an Express route calling undici, concurrency ${CONCURRENCY}`,
  goal: 'ratio >= 0.9',
  async run() {
    const fn = await startFunctionServer(
      JSON.stringify({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'hello' }),
    );
    const gateway = createGateway(new MemoryStore(), {
      resyncInterval: 0,
      providers: { http: new HttpProvider({ connections: CONCURRENCY }) },
    });
    await gateway.registerFunction({ functionId: 'fn', type: 'http', provider: { url: fn.url } });
    await gateway.subscribe({
      type: 'sync',
      eventType: 'http.request',
      functionId: 'fn',
      method: 'GET',
      path: '/hello',
    });
    const viaGateway = express();
    viaGateway.use('/events', expressMiddleware(gateway));
    const direct = express();
    const agent = new Agent({ connections: CONCURRENCY });
    direct.get('/hello', async (req, res) => {
      // What an app does without the gateway: call the function, relay its answer.
      const answer = await request(fn.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          path: req.path,
          method: req.method,
          headers: req.headers,
          query: req.query,
        }),
        dispatcher: agent,
      });
      const { statusCode, headers, body } = await answer.body.json();
      res.status(statusCode).set(headers).send(body);
    });
    const [a, b] = await Promise.all([listen(viaGateway), listen(direct)]);
    const gatewayUrl = `http://127.0.0.1:${a.address().port}/events/hello`;
    const directUrl = `http://127.0.0.1:${b.address().port}/hello`;
    try {
      await load(gatewayUrl);
      await load(directUrl);
      const ours = [];
      const baseline = [];
      for (let round = 0; round < ROUNDS; round++) {
        baseline.push(await load(directUrl));
        ours.push(await load(gatewayUrl));
      }
      const o = median(ours);
      const base = median(baseline);
      return {
        ours: {
          value: o,
          unit: 'requests/s',
          label: 'Express + expressMiddleware + sync subscription',
        },
        baseline: {
          value: base,
          unit: 'requests/s',
          label: 'Express route + undici to the function',
        },
        ratio: o / base,
        met: o / base >= 0.9,
      };
    } finally {
      a.close();
      b.close();
      await agent.close();
      await gateway.close();
      fn.stop();
    }
  },
};
