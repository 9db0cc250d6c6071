// What one watched change costs a process, by etcd watch client, on one etcd in one run:
//   node bench/etcd-watch-clients.js [--rounds 3] [--changes 2000] [--clients a,b,...] [--warmup 0] [--cpu-prof <dir>]
// Each client runs in a fresh process (its own heap and modules), in turns, so every client sees
// the same etcd and the same machine load within a minute. A writer process puts `changes`
// subscription-sized values one after another (each awaited, so each is its own revision and,
// mostly, its own watch message); the watching process's CPU (process.cpuUsage, user + system,
// every thread) from the first put to the last event, / changes. RSS is taken after loading the
// client, connecting and creating the watch (after GC), against a Node process that loaded nothing.
// Each client decodes every event into the store contract's WatchChange (key and value as text,
// revisions as numbers), as the EtcdStore must.
//
// Clients:
//   gateway     a gateway (createGateway) on that EtcdStore with 100 entries: its whole cost of
//               applying a change (gateway-before: on the `--before` build)
//   store       the EtcdStore of dist/ (its watch as the gateway uses it: node:http2 since this work)
//   store-etcd3 the same EtcdStore on its etcd3 fallback (a grpcOptions key only etcd3 applies)
//   store-before the EtcdStore of another build (`--before <dist dir>`, e.g. main's), when given
//   store-loaded the EtcdStore's watch in a process that also holds an idle gateway (on a
//               MemoryStore, 100 entries): the store's cost in a gateway-sized process (not run
//               unless named in --clients)
//   etcd3       etcd3 1.1.2's watcher alone (the EtcdStore before this work used it)
//   grpc-js     @grpc/grpc-js's bidi stream call with a hand-written protobuf codec
//   http2       node:http2 with hand-written gRPC framing and protobuf codec (no gRPC library)
//   json        etcd's JSON gateway (POST /v3/watch, JSON lines, base64) over undici
//   floor       node:http2, gRPC framing and a walk over the top-level fields: no objects made
//   bare        Node, nothing loaded (memory only)
const { fork } = require('node:child_process');
const os = require('node:os');

const ROOT = '/serverless-event-gateway';
const PREFIX = `${ROOT}/subscriptions/`;
const CLIENTS = ['gateway', 'store', 'store-etcd3', 'etcd3', 'grpc-js', 'http2', 'json', 'floor'];

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}

// ---- the hand-written codec (etcd's rpc.proto and kv.proto; field numbers in the comments) ----

function varint(value) {
  const out = [];
  let v = BigInt(value);
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}
const field = (tag, bytes) => Buffer.concat([Buffer.from([tag]), varint(bytes.length), bytes]);

/** WatchRequest{create_request(1): WatchCreateRequest{key(1), range_end(2), start_revision(3)}}. */
function watchCreateRequest(prefix, fromRevision) {
  const key = Buffer.from(prefix);
  const end = Buffer.from(prefix);
  end[end.length - 1]++;
  const create = Buffer.concat([
    field(0x0a, key),
    field(0x12, end),
    Buffer.from([0x18]),
    varint(fromRevision),
  ]);
  return field(0x0a, create);
}

/** A protobuf reader over one message: varints as numbers (revisions stay below 2^53). */
class Reader {
  constructor(buf, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }
  varint() {
    let result = 0;
    let shift = 1;
    for (;;) {
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
  }
  bigVarint() {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
  }
  skip(wireType) {
    if (wireType === 0) this.varint();
    else if (wireType === 2) {
      const n = this.varint(); // not `this.pos += this.varint()`: that adds to the old position
      this.pos += n;
    } else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`wire type ${wireType}`);
  }
}

/** KeyValue{key(1), create_revision(2), mod_revision(3), version(4), value(5), lease(6)}. */
function decodeKeyValue(r, end) {
  let key = '';
  let value = '';
  let createRevision = 0;
  let modRevision = 0;
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case 0x0a: {
        const n = r.varint();
        key = r.buf.toString('utf8', r.pos, r.pos + n);
        r.pos += n;
        break;
      }
      case 0x10:
        createRevision = r.varint();
        break;
      case 0x18:
        modRevision = r.varint();
        break;
      case 0x2a: {
        const n = r.varint();
        value = r.buf.toString('utf8', r.pos, r.pos + n);
        r.pos += n;
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  return { key, value, createRevision, modRevision };
}

/** Event{type(1): PUT 0 | DELETE 1, kv(2), prev_kv(3)} as a WatchChange. */
function decodeEvent(r, end) {
  let type = 0;
  let kv;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 0x08) type = r.varint();
    else if (tag === 0x12) {
      const n = r.varint();
      kv = decodeKeyValue(r, r.pos + n);
    } else r.skip(tag & 7);
  }
  return type === 1
    ? { type: 'delete', key: kv.key, modRevision: kv.modRevision }
    : { type: 'put', kv };
}

/**
 * WatchResponse{header(1): ResponseHeader{cluster_id(1), member_id(2), revision(3), raft_term(4)},
 * watch_id(2), created(3), canceled(4), compact_revision(5), cancel_reason(6), fragment(7),
 * events(11)}.
 */
function decodeWatchResponse(buf, pos, end) {
  const r = new Reader(buf, pos, end);
  const res = { revision: 0, clusterId: '', created: false, canceled: false, events: [] };
  while (r.pos < end) {
    const tag = r.varint();
    switch (tag) {
      case 0x0a: {
        const hEnd = r.varint() + r.pos;
        while (r.pos < hEnd) {
          const t = r.varint();
          if (t === 0x08) res.clusterId = r.bigVarint().toString();
          else if (t === 0x18) res.revision = r.varint();
          else r.skip(t & 7);
        }
        break;
      }
      case 0x18:
        res.created = r.varint() !== 0;
        break;
      case 0x20:
        res.canceled = r.varint() !== 0;
        break;
      case 0x5a: {
        const n = r.varint();
        res.events.push(decodeEvent(r, r.pos + n));
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  return res;
}

/** Top-level walk only: how many events (field 11) a WatchResponse holds. */
function countEvents(buf, pos, end) {
  const r = new Reader(buf, pos, end);
  let events = 0;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 0x5a) events++;
    r.skip(tag & 7);
  }
  return events;
}

/** Splits a gRPC body into messages (1 byte compressed flag, 4 bytes length, the message). */
function grpcFramer(onMessage) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let pos = 0;
    while (buf.length - pos >= 5) {
      const n = buf.readUInt32BE(pos + 1);
      if (buf.length - pos - 5 < n) break;
      onMessage(buf, pos + 5, pos + 5 + n);
      pos += 5 + n;
    }
    pending = pos === buf.length ? Buffer.alloc(0) : buf.subarray(pos);
  };
}

// ---- the clients: each resolves once the watch is created, and calls onChanges per response ----

async function storeWatch(dist, options, endpoint, from, onChanges) {
  const { EtcdStore } = require(`${dist}/etcd`);
  const store = new EtcdStore({ hosts: endpoint, watchCheckInterval: 60_000, ...options });
  await store.list(PREFIX, { limit: 1 });
  store.watch(PREFIX, from, (event) => {
    if (event.type === 'changes') onChanges(event.changes);
    else throw new Error(JSON.stringify(event));
  });
  // The EtcdStore tells no one when its watch is created: a put before this one is not seen.
  await new Promise((resolve) => setTimeout(resolve, 500));
}

/** A gateway on the EtcdStore of `dist`, its watch's changes counted as they are applied. */
async function gatewayWatch(dist, endpoint, from, onChanges) {
  const { createGateway } = require(dist);
  const { EtcdStore } = require(`${dist}/etcd`);
  class CountedStore extends EtcdStore {
    watch(prefix, fromRevision, listener) {
      return super.watch(prefix, fromRevision, (event) => {
        listener(event);
        if (event.type === 'changes' && event.changes.length) onChanges(event.changes);
      });
    }
  }
  const gateway = createGateway(new CountedStore({ hosts: endpoint }), { resyncInterval: 0 });
  await gateway.ready();
  await new Promise((resolve) => setTimeout(resolve, 500));
}

const clients = {
  gateway: (...args) => gatewayWatch('../dist', ...args),
  'gateway-before': (...args) => gatewayWatch(process.env.BEFORE_DIST, ...args),
  store: (...args) => storeWatch('../dist', {}, ...args),
  'store-etcd3': (...args) =>
    storeWatch('../dist', { grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 1000 } }, ...args),
  'store-before': (...args) => storeWatch(process.env.BEFORE_DIST, {}, ...args),
  async 'store-loaded'(...args) {
    const { MemoryStore, createGateway } = require('../dist');
    const { configurationEntries } = require('./config-entries');
    const memory = new MemoryStore();
    await memory.txn([], configurationEntries(ROOT, 100, 10));
    const gateway = createGateway(memory, { resyncInterval: 0 });
    await gateway.ready();
    global.keep = gateway;
    return storeWatch('../dist', {}, ...args);
  },

  async etcd3(endpoint, from, onChanges) {
    const { Etcd3 } = require('etcd3');
    const client = new Etcd3({
      hosts: endpoint,
      grpcOptions: { 'grpc.max_receive_message_length': -1 },
    });
    const watcher = await client.watch().prefix(PREFIX).startRevision(String(from)).create();
    watcher.on('data', (res) =>
      onChanges(
        res.events.map((ev) =>
          ev.type === 'Delete'
            ? {
                type: 'delete',
                key: ev.kv.key.toString('utf8'),
                modRevision: Number(ev.kv.mod_revision),
              }
            : {
                type: 'put',
                kv: {
                  key: ev.kv.key.toString('utf8'),
                  value: ev.kv.value.toString('utf8'),
                  createRevision: Number(ev.kv.create_revision),
                  modRevision: Number(ev.kv.mod_revision),
                },
              },
        ),
      ),
    );
  },

  async 'grpc-js'(endpoint, from, onChanges) {
    const grpc = require('@grpc/grpc-js');
    const client = new grpc.Client(new URL(endpoint).host, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
    });
    const call = client.makeBidiStreamRequest(
      '/etcdserverpb.Watch/Watch',
      (b) => b,
      (buf) => decodeWatchResponse(buf, 0, buf.length),
    );
    return new Promise((resolve, reject) => {
      call.on('error', reject);
      call.on('data', (res) => (res.created ? resolve() : onChanges(res.events)));
      call.write(watchCreateRequest(PREFIX, from));
    });
  },

  async http2(endpoint, from, onChanges) {
    return http2Watch(endpoint, from, (buf, pos, end, resolve) => {
      const res = decodeWatchResponse(buf, pos, end);
      if (res.created) resolve();
      else onChanges(res.events);
    });
  },

  async floor(endpoint, from, onChanges) {
    let created = false;
    return http2Watch(endpoint, from, (buf, pos, end, resolve) => {
      if (!created) {
        created = true;
        resolve();
      } else onChanges({ length: countEvents(buf, pos, end) });
    });
  },

  async json(endpoint, from, onChanges) {
    const { request } = require('undici');
    const body = JSON.stringify({
      create_request: {
        key: Buffer.from(PREFIX).toString('base64'),
        range_end: Buffer.from(PREFIX.slice(0, -1) + '0').toString('base64'),
        start_revision: String(from),
      },
    });
    const res = await request(`${endpoint}/v3/watch`, { method: 'POST', body });
    let pending = '';
    return new Promise((resolve, reject) => {
      res.body.setEncoding('utf8');
      res.body.on('error', reject);
      res.body.on('data', (chunk) => {
        pending += chunk;
        let nl;
        while ((nl = pending.indexOf('\n')) !== -1) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (!line.trim()) continue;
          const { result } = JSON.parse(line);
          if (result.created) {
            resolve();
            continue;
          }
          onChanges(
            (result.events ?? []).map((ev) => {
              const key = Buffer.from(ev.kv.key, 'base64').toString('utf8');
              const modRevision = Number(ev.kv.mod_revision);
              return ev.type === 'DELETE'
                ? { type: 'delete', key, modRevision }
                : {
                    type: 'put',
                    kv: {
                      key,
                      value: Buffer.from(ev.kv.value ?? '', 'base64').toString('utf8'),
                      createRevision: Number(ev.kv.create_revision),
                      modRevision,
                    },
                  };
            }),
          );
        }
      });
    });
  },
};

function http2Watch(endpoint, from, onMessage) {
  const http2 = require('node:http2');
  const session = http2.connect(endpoint);
  const stream = session.request({
    ':method': 'POST',
    ':path': '/etcdserverpb.Watch/Watch',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  const message = watchCreateRequest(PREFIX, from);
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  stream.write(Buffer.concat([header, message]));
  return new Promise((resolve, reject) => {
    session.on('error', reject);
    stream.on('error', reject);
    stream.on(
      'data',
      grpcFramer((buf, pos, end) => onMessage(buf, pos, end, resolve)),
    );
  });
}

// ---- the processes ----

function rssAfterGc() {
  for (let i = 0; i < 4; i++) global.gc();
  return process.memoryUsage().rss;
}

async function watcherProcess() {
  const { endpoint, client, from, changes, warmup } = await new Promise((r) =>
    process.once('message', r),
  );
  if (client === 'bare') {
    process.send({ rss: rssAfterGc() });
    return;
  }
  let seen = 0;
  let messages = 0;
  let start;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  // The warm-up's changes (--warmup) are applied before the clock starts: V8 compiles the hot
  // path in them, a one-time cost that a few thousand changes would otherwise carry.
  let measuring = false;
  let warmSeen = 0;
  let warmed;
  const warmDone = new Promise((resolve) => (warmed = resolve));
  if (!warmup) warmed();
  await clients[client](endpoint, from, (events) => {
    if (!measuring) {
      warmSeen += events.length;
      if (warmSeen >= warmup) warmed();
      return;
    }
    messages++;
    seen += events.length;
    if (seen >= changes) done(process.cpuUsage(start));
  });
  const rss = rssAfterGc();
  process.once('message', async () => {
    await warmDone;
    measuring = true;
    start = process.cpuUsage();
    seen = 0;
    messages = 0;
    process.send({ go: true });
  });
  process.send({ ready: true, rss });
  const cpu = await finished;
  process.send({ cpuUs: (cpu.user + cpu.system) / changes, messages, seen });
  process.exit(0);
}

async function writerProcess() {
  const { Etcd3 } = require('etcd3');
  const { configurationEntries } = require('./config-entries');
  const { endpoint } = await new Promise((r) => process.once('message', r));
  const client = new Etcd3({ hosts: endpoint });
  // 100 entries (10 functions, 90 subscriptions); each change moves one subscription's path.
  const entries = configurationEntries(ROOT, 100, 10);
  for (const { key, value } of entries) await client.put(key).value(value).exec();
  const subscriptions = entries.filter((op) => op.key.startsWith(PREFIX));
  process.on('message', async ({ count, round }) => {
    let revision = 0;
    for (let i = 0; i < count; i++) {
      const { key, value } = subscriptions[i % subscriptions.length];
      const record = { ...JSON.parse(value), path: `/moved/${round}/${i}` };
      const res = await client.put(key).value(JSON.stringify(record)).exec();
      revision = Number(res.header.revision);
    }
    process.send({ revision });
  });
  const res = await client.get('/none').exec();
  process.send({ revision: Number(res.header.revision) });
}

function once(child) {
  return new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => code && reject(new Error(`child exited ${code}`)));
  });
}

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];

async function main() {
  const rounds = Number(arg('rounds', 3));
  const changes = Number(arg('changes', 2000));
  const warmup = Number(arg('warmup', 0));
  const before = arg('before');
  const cpuProf = arg('cpu-prof') && require('node:path').resolve(arg('cpu-prof'));
  const firsts = before ? ['gateway-before', 'store-before'] : [];
  const wanted = arg('clients', [...firsts, ...CLIENTS].join(',')).split(',');
  if (before) process.env.BEFORE_DIST = require('node:path').resolve(before);
  const { startEtcd } = require('../dist');
  const etcd = await startEtcd({ name: 'watch-clients' });
  const endpoint = etcd.endpoints[0];
  const load = () =>
    os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' / ');
  const loadBefore = load();
  const writer = fork(__filename, ['writer']);
  writer.send({ endpoint });
  let { revision } = await once(writer);
  const results = Object.fromEntries([...wanted, 'bare'].map((c) => [c, { cpu: [], rss: [] }]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const client of [...wanted, 'bare']) {
        const execArgv = ['--expose-gc'];
        // --cpu-prof <dir>: each watcher writes a V8 CPU profile there (it exits by itself then).
        if (cpuProf)
          execArgv.push('--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', cpuProf);
        const child = fork(__filename, ['watcher'], { execArgv });
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.send({ endpoint, client, from: revision + 1, changes, warmup });
        const ready = await once(child);
        results[client].rss.push(ready.rss);
        if (client === 'bare') continue;
        if (warmup) {
          writer.send({ count: warmup, round: `warm${round}` });
          ({ revision } = await once(writer));
        }
        child.send({ go: true });
        await once(child);
        const doneMsg = once(child);
        writer.send({ count: changes, round });
        ({ revision } = await once(writer));
        const done = await doneMsg;
        results[client].cpu.push(done.cpuUs);
        results[client].messages = done.messages;
        if (cpuProf) await exited;
        else child.kill();
        process.stderr.write(
          `round ${round + 1} ${client}: ${done.cpuUs.toFixed(1)} µs/change, ${(ready.rss / 2 ** 20).toFixed(1)} MiB, ${done.messages} messages\n`,
        );
      }
    }
  } finally {
    writer.kill();
    await etcd.stop();
  }
  const MiB = 2 ** 20;
  console.log(
    `${os.cpus()[0].model}, ${os.cpus().length} cores, Node ${process.version}, etcd 3.4.23; ` +
      `${new Date().toISOString()}; ${rounds} rounds x ${changes} changes (after ${warmup}); load ${loadBefore} -> ${load()}`,
  );
  console.log(
    '| client | CPU µs per change (min-max) | median | RSS MiB after load+watch (min-max) |',
  );
  console.log('| --- | --- | --- | --- |');
  for (const [client, r] of Object.entries(results)) {
    const cpu = r.cpu.length
      ? `${Math.min(...r.cpu).toFixed(1)}-${Math.max(...r.cpu).toFixed(1)} | ${quantile(r.cpu, 0.5).toFixed(1)}`
      : '- | -';
    const rss = `${(Math.min(...r.rss) / MiB).toFixed(1)}-${(Math.max(...r.rss) / MiB).toFixed(1)}`;
    console.log(`| ${client} | ${cpu} | ${rss} |`);
  }
}

if (process.argv[2] === 'watcher') void watcherProcess();
else if (process.argv[2] === 'writer') void writerProcess();
else
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
