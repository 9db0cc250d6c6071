// End-to-end latency, one event at a time: from `emit` to the moment the HTTP function (another
// process) has the request, against one raw undici Pool request to the same server. The server
// stamps arrival with process.hrtime, one monotonic clock for every process on the machine.
const { Pool } = require('undici');
const {
  BENCH_EVENT,
  gatewayToHttpFunction,
  percentile,
  startFunctionServer,
} = require('./harness');

const EVENTS = 2000;
const ROUNDS = 3;

async function rawLatencies(url, event) {
  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, { connections: 1 });
  const out = [];
  for (let i = 0; i < EVENTS; i++) {
    const sent = process.hrtime.bigint();
    const res = await pool.request({
      path: pathname,
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
      body: JSON.stringify({ ...event, id: String(i) }),
    });
    const { at } = await res.body.json();
    out.push(Number(BigInt(at) - sent) / 1e6);
  }
  await pool.close();
  return out;
}

async function gatewayLatencies(url, event) {
  const gateway = await gatewayToHttpFunction(url);
  const out = [];
  for (let i = 0; i < EVENTS; i++) {
    const sent = process.hrtime.bigint();
    const { outcomes } = await gateway.emit({ ...event, id: String(i) }, { wait: true });
    out.push(Number(BigInt(outcomes[0].result.at) - sent) / 1e6);
  }
  await gateway.close();
  return out;
}

const signed = (ms) => `${ms >= 0 ? '+' : ''}${ms.toFixed(3)}`;

module.exports = {
  name: 'latency',
  title: 'end-to-end latency, emit -> the HTTP function has it, one event at a time',
  goal: 'p99 overhead < 0.2 ms',
  async run() {
    const server = await startFunctionServer('--stamp');
    const event = BENCH_EVENT;
    try {
      await rawLatencies(server.url, event); // warm-up
      await gatewayLatencies(server.url, event);
      const ours = [];
      const baseline = [];
      for (let round = 0; round < ROUNDS; round++) {
        baseline.push(...(await rawLatencies(server.url, event)));
        ours.push(...(await gatewayLatencies(server.url, event)));
      }
      const [o50, o99, b50, b99] = [
        percentile(ours, 50),
        percentile(ours, 99),
        percentile(baseline, 50),
        percentile(baseline, 99),
      ];
      return {
        ours: { value: o99, unit: 'ms p99', label: 'gateway.emit -> function' },
        baseline: { value: b99, unit: 'ms p99', label: 'one undici Pool request' },
        ratio: o99 / b99,
        difference: `p99 ${signed(o99 - b99)} ms, p50 ${signed(o50 - b50)} ms`,
        met: o99 - b99 < 0.2,
      };
    } finally {
      server.stop();
    }
  },
};
