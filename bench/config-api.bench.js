// (i) The Configuration API's HTTP layer: writes/s and reads/s through HTTP (node:http +
// createConfigHandler, an undici Pool as the client, 16 requests in flight) against the same
// calls made in-process on the same gateway, same concurrency. In-memory store: the ratio is
// the cost of HTTP, JSON and routing, not of a store.
const { createServer } = require('node:http');
const { Pool } = require('undici');
const { median } = require('./harness');

const IN_FLIGHT = 16;
const WRITES = 4000;
const READS = 20000;
const ROUNDS = 3;

async function run(total, op) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < total) await op(next++);
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

async function setup() {
  const { createGateway, createConfigHandler, MemoryStore } = require('../dist');
  const gateway = createGateway(new MemoryStore(), { resyncInterval: 0 });
  await gateway.ready();
  await gateway.registerFunction({
    functionId: 'target',
    type: 'http',
    provider: { url: 'http://127.0.0.1:9/' },
  });
  const server = createServer(createConfigHandler(gateway));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pool = new Pool(`http://127.0.0.1:${server.address().port}`, { connections: IN_FLIGHT });
  const http = async (method, path, body) => {
    const res = await pool.request({
      method,
      path,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode}`);
  };
  return {
    gateway,
    http,
    close: async () => {
      await pool.close();
      server.close();
      await gateway.close();
    },
  };
}

/** The floor: a bare node:http server answering the same JSON to the same client. */
async function rawHttpReads(json) {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(json);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pool = new Pool(`http://127.0.0.1:${server.address().port}`, { connections: IN_FLIGHT });
  const rate = await run(READS, async () => {
    const res = await pool.request({ method: 'GET', path: '/v1/spaces/default/functions/target' });
    await res.body.text();
  });
  await pool.close();
  server.close();
  return rate;
}

function variant(kind) {
  return {
    name: `config-api-${kind}`,
    title: `(i) Configuration API ${kind}/s through HTTP vs the same calls in-process`,
    goal: 'report',
    async run() {
      const ours = [];
      const baseline = [];
      const floor = [];
      let round = 0;
      for (let r = 0; r < ROUNDS; r++) {
        const { gateway, http, close } = await setup();
        const tag = `r${round++}`;
        if (kind === 'writes') {
          baseline.push(
            await run(WRITES, (i) => gateway.createEventType({ name: `local.${tag}.${i}` })),
          );
          ours.push(
            await run(WRITES, (i) =>
              http('POST', '/v1/spaces/default/eventtypes', { name: `http.${tag}.${i}` }),
            ),
          );
        } else {
          baseline.push(await run(READS, () => gateway.getFunction({ functionId: 'target' })));
          ours.push(await run(READS, () => http('GET', '/v1/spaces/default/functions/target')));
          floor.push(
            await rawHttpReads(JSON.stringify(gateway.getFunction({ functionId: 'target' }))),
          );
        }
        await close();
      }
      const o = median(ours);
      const b = median(baseline);
      return {
        ours: { value: o, unit: `${kind}/s`, label: 'through HTTP' },
        baseline: { value: b, unit: `${kind}/s`, label: 'in-process' },
        ratio: o / b,
        // Client and server share this process: the time per call is what each costs in CPU.
        difference: `per call: ${(1e6 / o).toFixed(1)} µs through HTTP, ${(1e6 / b).toFixed(1)} µs in-process${floor.length ? `; a bare node:http server answering the same JSON: ${(1e6 / median(floor)).toFixed(1)} µs` : ''}`,
        met: true,
      };
    },
  };
}

module.exports = [variant('writes'), variant('reads')];
