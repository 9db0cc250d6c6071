// One gateway of a fault run (scripts/fault-run.js), in a process of its own, on a store with
// default options: it writes seeded random configuration while told to, and reports its
// configuration, its health and what its store link saw (per key, and its relists) when asked.
const { createGateway, ConsulStore, EtcdStore, ZooKeeperStore } = require('../dist');

const kind = process.env.STORE_KIND;
const address = process.env.STORE_ADDRESS;
const prefix = process.env.GATEWAY_PREFIX;
let seed = Number(process.env.SEED ?? 1);
const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;

const store =
  kind === 'etcd'
    ? new EtcdStore({ hosts: address.split(',') })
    : kind === 'zookeeper'
      ? new ZooKeeperStore({ servers: address })
      : new ConsulStore({ url: address });

/** Per key, the last listings and watch events that named it; and the link's own events. */
const history = new Map();
const link = [];
const started = Date.now();
const note = (key, line) => {
  let lines = history.get(key);
  if (!lines) history.set(key, (lines = []));
  lines.push(`${Date.now() - started}ms ${line}`);
  if (lines.length > 30) lines.shift();
};
const noteLink = (line) => {
  link.push(`${Date.now() - started}ms ${line}`);
  if (link.length > 60) link.shift();
};

const traced = new Proxy(store, {
  get(target, name) {
    if (name === 'list') {
      return async (p, options) => {
        const page = await target.list(p, options);
        noteLink(`listed at ${page.revision}: ${page.items.length} keys`);
        for (const kv of page.items)
          note(kv.key, `listed at ${page.revision}: mod ${kv.modRevision}`);
        return page;
      };
    }
    if (name === 'watch') {
      return (p, from, listener) =>
        target.watch(p, from, (event) => {
          if (event.type === 'changes') {
            for (const change of event.changes) {
              const key = change.type === 'put' ? change.kv.key : change.key;
              const mod = change.type === 'put' ? change.kv.modRevision : change.modRevision;
              note(key, `watch (from ${from}) batch ${event.revision}: ${change.type} mod ${mod}`);
            }
          } else {
            noteLink(`watch (from ${from}) ${event.type}: ${event.reason ?? event.error?.message}`);
          }
          listener(event);
        });
    }
    const value = Reflect.get(target, name);
    return typeof value === 'function' ? value.bind(target) : value;
  },
});

const gateway = createGateway(traced, { prefix });
gateway.on('store.resync', (reason, repaired) => noteLink(`resync (${repaired}): ${reason}`));
gateway.on('store.error', () => undefined);

const stats = { ok: 0, refused: 0, unavailable: 0 };
let writing = false;
let loops = [];

/** One random write over a small shared set of names, so instances undo each other's work. */
function write() {
  const roll = random();
  const functionId = `f${Math.floor(random() * 8)}`;
  const name = `e${Math.floor(random() * 4)}`;
  if (roll < 0.2) {
    return gateway.registerFunction({
      functionId,
      type: 'http',
      provider: { url: `http://127.0.0.1:1/${Math.floor(random() * 1e6)}` },
    });
  }
  if (roll < 0.3) {
    return gateway.updateFunction({
      functionId,
      type: 'http',
      provider: { url: `http://127.0.0.1:1/u${Math.floor(random() * 1e6)}` },
    });
  }
  if (roll < 0.42) return gateway.createEventType({ name });
  if (roll < 0.67) return gateway.subscribe({ eventType: name, functionId });
  if (roll < 0.82) {
    const subs = gateway.listSubscriptions();
    const pick = subs[Math.floor(random() * subs.length)];
    return pick ? gateway.unsubscribe({ subscriptionId: pick.subscriptionId }) : Promise.resolve();
  }
  if (roll < 0.91) return gateway.deleteFunction({ functionId });
  return gateway.deleteEventType({ name });
}

async function writeLoop() {
  while (writing) {
    try {
      await write();
      stats.ok++;
    } catch (error) {
      if (error.code === 'STORE_UNAVAILABLE') {
        stats.unavailable++;
        // Not a busy loop while the store is away.
        await new Promise((r) => setTimeout(r, 50));
      } else stats.refused++;
    }
  }
}

process.on('message', async (message) => {
  if (message.cmd === 'start') {
    writing = true;
    // Two writers: writes of one instance overlap, as a busy gateway's do.
    loops = [writeLoop(), writeLoop()];
  } else if (message.cmd === 'stop') {
    writing = false;
    await Promise.all(loops);
    process.send({ cmd: 'stopped', stats });
  } else if (message.cmd === 'snapshot') {
    process.send({ cmd: 'snapshot', snapshot: gateway.configSnapshot(), health: gateway.health() });
  } else if (message.cmd === 'trace') {
    const keys = message.keys ?? [];
    process.send({
      cmd: 'trace',
      link,
      keys: Object.fromEntries(keys.map((key) => [key, history.get(key) ?? []])),
    });
  } else if (message.cmd === 'exit') {
    await gateway.close();
    await store.close();
    process.exit(0);
  }
});

gateway.ready().then(
  () => process.send({ cmd: 'ready' }),
  (error) => {
    process.send({ cmd: `not ready: ${error.message}` });
    process.exit(1);
  },
);
