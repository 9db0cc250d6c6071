// The gateway's own CPU per message through a connection, without a broker: `node
// bench/source-entry-cpu.js [messages] [rounds]`. A source in this process hands out small JSON
// messages (the bench/sources.bench.js bodies, one timestamp) as fast as the connection takes
// them, each becoming an event entered as the gateway enters a connection's events (accept,
// screen, dispatch) into a local function that counts it, acknowledged once accepted. Prints the
// CPU (process.cpuUsage) per message from the first delivery to the last acknowledgement: the
// median and the lowest of the rounds after two warm-ups. What sources.bench.js adds to it is the
// client's and the broker's; alternate two trees' runs to compare them (a tree measures itself).
const { loadInternals } = require('./harness');

// The runner is internal (the package ships the gateway's entry inside createGateway).
const { createGateway, MemoryStore, ConnectionRunner, KeyLayout } = loadInternals(
  "export { createGateway, MemoryStore } from './index';\n" +
    "export { ConnectionRunner } from './sources/connection-runner';\n" +
    "export { KeyLayout } from './model/key-layout';\n",
);
const N = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 8);
const body = (i) => JSON.stringify({ n: i, sku: `sku-${i % 100}`, qty: (i % 7) + 1 });
const bodies = Array.from({ length: N }, (_, i) => Buffer.from(body(i)));

/** A source handing out N messages while not paused, as the Kafka source does from a batch. */
function sourceOf(meter) {
  return (context) => {
    let paused = false;
    let next = 0;
    const time = Date.now();
    const pump = () => {
      while (!paused && next < N) {
        const i = next++;
        if (i === 0) meter.start();
        const ack = async () => meter.acked();
        context.deliver({ id: `0-${i}`, body: bodies[i], time: new Date(time), ack });
      }
    };
    return {
      start: async () => void setImmediate(pump),
      pause: () => void (paused = true),
      resume: () => {
        paused = false;
        queueMicrotask(pump);
      },
      close: async () => undefined,
    };
  };
}

async function round(r) {
  const store = new MemoryStore();
  // A queue larger than the round: the round measures CPU, not the dispatcher's backpressure.
  const gateway = createGateway(store, { connections: false, queueSize: N * 2 });
  let cpu;
  let acked = 0;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  const meter = {
    start: () => (cpu = process.cpuUsage()),
    acked: () => ++acked === N && finish(process.cpuUsage(cpu)),
  };
  let bad = 0;
  await gateway.registerFunction({
    functionId: 'count',
    handler: (event) => void (typeof event.data?.n !== 'number' && bad++),
  });
  await gateway.createEventType({ name: 'bench.message' });
  await gateway.subscribe({ eventType: 'bench.message', functionId: 'count' });
  const runner = new ConnectionRunner({
    connections: {
      all: () => gateway.listConnections({ space: 'default', secrets: true }),
      get: (space, connectionId) =>
        gateway
          .listConnections({ space, secrets: true })
          .find((c) => c.connectionId === connectionId),
    },
    store,
    leasePrefix: new KeyLayout().leasePrefix,
    sources: { kafka: sourceOf(meter) },
    // As the gateway's own entry (lib/gateway.ts): accept, screen (here as a batch of one), dispatch.
    entry: async (event, { space }) => {
      const accepted = gateway.accept(event, { space, method: 'POST', path: '/' }, 'source');
      return gateway.dispatch((await gateway.screen([accepted]))[0]);
    },
    reportError: (error) => console.error(error),
  });
  gateway.on('config.changed', (changes) => runner.apply(changes));
  runner.start();
  await gateway.createConnection({
    connectionId: `c${r}`,
    type: 'kafka',
    source: { brokers: '127.0.0.1:9', topic: 't' },
    eventType: 'bench.message',
  });
  const { user, system } = await done;
  await runner.close();
  await gateway.close();
  if (bad) throw new Error(`${bad} events without their data`);
  return (user + system) / N;
}

(async () => {
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await round(r));
  const kept = rounds.slice(2).sort((a, b) => a - b);
  const median = kept[Math.floor(kept.length / 2)];
  console.log(
    `${N} messages, ${kept.length} rounds: CPU ${median.toFixed(2)} µs/message (median), ${kept[0].toFixed(2)} (lowest)`,
  );
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
