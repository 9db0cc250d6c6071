// The instances curve: K gateway processes (instance-child.js) on one store server, a writer
// gateway in this process. Per K: write-to-routable on the last instance (p50/p99), the server's
// CPU per write and RSS (/proc), each instance's RSS and CPU per applied change. Setups: etcd,
// etcd behind `etcd grpc-proxy` (it coalesces equal watches), ZooKeeper, Consul.
const { fork, spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const { createGateway, EtcdStore, freePort, startEtcd, subscriptionId } = require('../../dist');
const { median, percentile } = require('../harness');
const { startServer } = require('../store-servers');

const COUNTS = [1, 4, 16, 32, 64];
const SETUPS = ['etcd', 'etcd-proxy', 'zookeeper', 'consul'];
const SAMPLES = Number(process.env.SAMPLES ?? 200);
const WARM = 20;
const ENTRIES = 100; // the idle instance's configuration (the memory goal is with 100)
const TICK_MS = 1000 / 100; // /proc/<pid>/stat counts CPU in clock ticks (CLK_TCK = 100 on Linux)
const INSTANCE_BUDGET = 200 * 2 ** 20; // RSS headroom per instance when bounding K by memory

/** CPU (ms) and RSS (bytes) of a process, from /proc. */
function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  return { cpuMs, rss };
}

/** `etcd grpc-proxy start` in front of `endpoint`, once it accepts connections. */
async function startGrpcProxy(endpoint) {
  const port = await freePort();
  const child = spawn(
    'etcd',
    ['grpc-proxy', 'start', `--endpoints=${endpoint}`, `--listen-addr=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const probe = new EtcdStore({ hosts: [url], requestTimeout: 1000 });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`grpc-proxy exited: ${stderr}`);
    try {
      await probe.get('/probe');
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`grpc-proxy did not answer on ${url}: ${error.message}\n${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await probe.close();
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { url, pid: child.pid, stop };
}

/** A store server of a setup: the writer's store, the children's address, the pids to watch. */
async function startSetup(setup, name) {
  if (setup === 'etcd' || setup === 'etcd-proxy') {
    const etcd = await startEtcd({ name });
    const store = () => new EtcdStore({ hosts: etcd.endpoints });
    if (setup === 'etcd') {
      return {
        store,
        address: JSON.stringify(etcd.endpoints),
        kind: 'etcd',
        pids: { etcd: etcd.process.pid },
        stop: () => etcd.stop(),
      };
    }
    const proxy = await startGrpcProxy(etcd.endpoints[0]);
    return {
      store, // the writer writes to etcd; the instances watch through the proxy
      address: JSON.stringify([proxy.url]),
      kind: 'etcd',
      pids: { etcd: etcd.process.pid, proxy: proxy.pid },
      stop: async () => {
        await proxy.stop();
        await etcd.stop();
      },
    };
  }
  const server = await startServer(setup);
  return {
    store: () => server.store(),
    address: server.address,
    kind: setup,
    pids: { [setup]: server.pid },
    stop: () => server.stop(),
  };
}

/** Forks `count` instances; resolves once every one is ready, with their idle RSS. */
async function startInstances(count, server, prefix, onMessage) {
  const children = [];
  const ready = [];
  for (let i = 0; i < count; i++) {
    const child = fork(
      join(__dirname, 'instance-child.js'),
      [server.kind, server.address, prefix],
      {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      },
    );
    children.push(child);
    ready.push(
      new Promise((resolve, reject) => {
        child.on('message', (message) => (message.ready ? resolve() : onMessage(child, message)));
        child.once('exit', (code) => reject(new Error(`instance ${i} exited with ${code}`)));
      }),
    );
  }
  await Promise.all(ready);
  return children;
}

function ask(children, message, answer) {
  return Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          const listener = (m) => {
            if (answer in m) {
              child.off('message', listener);
              resolve(m);
            }
          };
          child.on('message', listener);
          child.send(message);
        }),
    ),
  );
}

async function stopInstances(children) {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          child.removeAllListeners('exit');
          if (child.exitCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** One point: `count` instances of a setup, SAMPLES writes after WARM. */
async function measurePoint(setup, count) {
  const server = await startSetup(setup, `curves-${setup}-${count}`);
  const prefix = '/curves';
  const writer = createGateway(server.store(), { resyncInterval: 0, prefix });
  let children = [];
  try {
    await writer.ready();
    await writer.registerFunction({
      functionId: 'fn',
      type: 'http',
      provider: { url: 'http://127.0.0.1:1/' },
    });
    await writer.createEventType({ name: 'bench.t' });
    for (let i = 0; i < ENTRIES - 2; i++) {
      await writer.subscribe({ eventType: 'bench.t', functionId: 'fn', path: `/idle${i}` });
    }
    const pending = new Map();
    const errors = [];
    children = await startInstances(count, server, prefix, (_child, message) => {
      if (message.error) errors.push(message.error);
      const wait = message.routed && pending.get(message.routed);
      if (!wait) return;
      wait.times.push(message.at);
      if (wait.times.length === count) wait.done();
    });
    await new Promise((resolve) => setTimeout(resolve, 1000)); // let start-up settle
    const idleRss = (await ask(children, 'rss', 'rss')).map((m) => m.rss);
    const last = [];
    const first = [];
    let serverBefore;
    for (let i = 0; i < SAMPLES + WARM; i++) {
      if (i === WARM) {
        await ask(children, 'cpu-start', 'cpuStarted');
        serverBefore = Object.fromEntries(
          Object.entries(server.pids).map(([name, pid]) => [name, procStats(pid)]),
        );
      }
      const input = { eventType: 'bench.t', functionId: 'fn', path: `/k${i}` };
      const id = subscriptionId({ type: 'async', method: 'POST', ...input });
      const wait = { times: [] };
      const allRouted = new Promise((resolve) => (wait.done = resolve));
      pending.set(id, wait);
      const started = performance.timeOrigin + performance.now();
      await writer.subscribe(input);
      await allRouted;
      pending.delete(id);
      if (i >= WARM) {
        last.push(Math.max(...wait.times) - started);
        first.push(Math.min(...wait.times) - started);
      }
    }
    const serverAfter = Object.fromEntries(
      Object.entries(server.pids).map(([name, pid]) => [name, procStats(pid)]),
    );
    const cpu = await ask(children, 'cpu-stop', 'cpuMs');
    if (errors.length) throw new Error(errors[0]);
    const serverCpuMsPerWrite = Object.fromEntries(
      Object.keys(server.pids).map((name) => [
        name,
        (serverAfter[name].cpuMs - serverBefore[name].cpuMs) / SAMPLES,
      ]),
    );
    const serverRss = Object.fromEntries(
      Object.keys(server.pids).map((name) => [name, serverAfter[name].rss]),
    );
    return {
      setup,
      instances: count,
      samples: SAMPLES,
      p50: percentile(last, 50),
      p99: percentile(last, 99),
      firstP50: percentile(first, 50),
      serverCpuMsPerWrite,
      serverRss,
      instanceRssIdle: median(idleRss),
      instanceRssEnd: median(cpu.map((m) => m.rss)),
      applyCpuMs: median(cpu.map((m) => m.cpuMs / m.applied)),
      applyCpuMsMax: Math.max(...cpu.map((m) => m.cpuMs / m.applied)),
      load: os.loadavg(),
    };
  } finally {
    await stopInstances(children);
    await writer.close();
    await writer.store.close();
    await server.stop();
  }
}

/**
 * Runs the curve for each setup up to `max` instances, bounded by free memory; stops a setup at
 * its knee (median propagation growing faster than 2x the instance count: past linear CPU sharing,
 * queueing) and says so in `notes`. The p99 is too noisy on a shared machine to call the knee.
 */
async function run({ max, setups = SETUPS, onPoint = () => undefined }) {
  const byMemory = Math.floor(os.freemem() / INSTANCE_BUDGET);
  const counts = COUNTS.filter((k) => k <= Math.min(max, byMemory));
  const notes = [`free memory ${(os.freemem() / 2 ** 30).toFixed(1)} GiB bounds K at ${byMemory}`];
  const points = [];
  for (const setup of setups) {
    for (const count of counts) {
      process.stderr.write(`  ${setup} x ${count} (load ${os.loadavg()[0].toFixed(2)})...\n`);
      let point;
      try {
        point = await measurePoint(setup, count);
      } catch (error) {
        notes.push(
          `${setup}: ${count} instances failed (${error.message.split('\n')[0]}); stopped`,
        );
        break;
      }
      points.push(point);
      onPoint(point);
      const one = points.find((p) => p.setup === setup && p.instances === counts[0]);
      if (point.p50 > 2 * count * one.p50 && count !== counts[counts.length - 1]) {
        notes.push(
          `${setup}: stopped at ${count} instances, the knee (p50 > 2 x ${count} x one's)`,
        );
        break;
      }
    }
  }
  return { points, notes };
}

module.exports = { run, COUNTS, SETUPS };
