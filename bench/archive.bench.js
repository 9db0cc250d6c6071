// (k) Archives. Emit throughput (events accepted and delivered per second) with an S3Archive
// (moto's S3) and with a KafkaArchive (librdkafka's mock cluster) against the same gateway with
// no archive, in the same run (goal >= 0.8): to an http function (a server in its own process,
// the usual case) and to a no-op local handler (the gateway's cheapest path, the worst case for
// the ratio: there, serializing each event costs about as much as routing it); and replay
// throughput against raw reads of the same archive (S3: list, get, gunzip, parse every line;
// Kafka: a plain kafkajs consumer parsing every record). Local servers on the same machine:
// absolute figures say little, the ratios are the point.
const {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} = require('@aws-sdk/client-s3');
const { Kafka, logLevel } = require('kafkajs');
const { gunzipSync } = require('node:zlib');
const { startKafkaMock, startMoto } = require('../scripts/servers');
const { BENCH_EVENT, gatewayToHttpFunction, median, startFunctionServer } = require('./harness');

const BATCH = 1000;
const EVENTS = 50_000;
const ROUNDS = 3;

/** A gateway with a local handler subscribed to the bench event, and `plugins`. */
async function gateway(plugins, options = {}) {
  const { createGateway, MemoryStore } = require('../dist');
  const gw = createGateway(new MemoryStore(), {
    resyncInterval: 0,
    plugins,
    queueSize: 100_000,
    ...options,
  });
  let seen = 0;
  await gw.registerFunction({ functionId: 'handler', handler: () => void seen++ });
  await gw.createEventType({ name: BENCH_EVENT.type });
  await gw.subscribe({ eventType: BENCH_EVENT.type, functionId: 'handler' });
  await gw.ready();
  return { gw, seen: () => seen };
}

/** The same, delivering to the http function at `url`. */
async function httpGateway(url, plugins, options = {}) {
  const gw = await gatewayToHttpFunction(url, { plugins, queueSize: 100_000, ...options });
  await gw.ready();
  return { gw };
}

/** Emits `count` distinct events in batches of BATCH, each batch delivered before the next. */
async function emitRate(gw, tag, count = EVENTS) {
  const started = performance.now();
  for (let b = 0; b < count / BATCH; b++) {
    const pending = [];
    for (let i = 0; i < BATCH; i++) {
      pending.push(gw.emit({ ...BENCH_EVENT, id: `${tag}-${b}-${i}` }));
    }
    await Promise.all(pending);
    while (gw.metrics().deliveriesPending > 0) await new Promise((r) => setImmediate(r));
  }
  return count / ((performance.now() - started) / 1000);
}

/**
 * Emit throughput with and without the archive, interleaved; the archive must keep every event.
 * `target`: 'local' (a no-op handler) or an http function's URL.
 */
async function emitComparison(makeArchive, label, target) {
  const count = target === 'local' ? EVENTS : EVENTS / 5;
  // close() waits for the archive however long it takes (the default drain, 10 s, was cut short
  // at load 19 on a shared machine): the figure is the whole drain, and every event must be kept.
  const options = { drainTimeout: 600_000 };
  const make = (plugins) =>
    target === 'local' ? gateway(plugins, options) : httpGateway(target, plugins, options);
  const withArchive = [];
  const without = [];
  const drains = [];
  // Whole rounds (emit, then close: the archive writes what it still holds) per second, and
  // CPU µs per event (this process and its threads): an archive that defers its work past the
  // last emit looks fast by emit rate alone.
  const sustained = { with: [], without: [] };
  const cpu = { with: [], without: [] };
  for (let round = -1; round < ROUNDS; round++) {
    const plain = await make([]);
    let cpu0 = process.cpuUsage();
    let started = performance.now();
    const rate0 = await emitRate(plain.gw, `p${round}`, count);
    await plain.gw.close();
    const whole0 = count / ((performance.now() - started) / 1000);
    const { user: u0, system: s0 } = process.cpuUsage(cpu0);
    const archived = await make([makeArchive(round)]);
    let dropped = 0;
    archived.gw.on('archive.dropped', (report) => (dropped += report.dropped));
    cpu0 = process.cpuUsage();
    started = performance.now();
    const rate1 = await emitRate(archived.gw, `a${round}`, count);
    const closing = performance.now();
    await archived.gw.close(); // the archive writes what it still holds
    const whole1 = count / ((performance.now() - started) / 1000);
    const { user: u1, system: s1 } = process.cpuUsage(cpu0);
    const stats = archived.gw.metrics().plugins[0].stats;
    if (stats.archived !== count) {
      // What close() could not write must be in archive.dropped reports: anything else is silent.
      const silent = count - stats.archived - dropped;
      throw new Error(
        `${label}: ${stats.archived} of ${count} archived; ${stats.lost} lost, ${dropped} reported ` +
          `by archive.dropped${silent > 0 ? `; ${silent} lost SILENTLY` : ''}`,
      );
    }
    if (round < 0) continue; // warm-up
    without.push(rate0);
    withArchive.push(rate1);
    drains.push(performance.now() - closing);
    sustained.without.push(whole0);
    sustained.with.push(whole1);
    cpu.without.push((u0 + s0) / count);
    cpu.with.push((u1 + s1) / count);
  }
  const ours = median(withArchive);
  const baseline = median(without);
  const to = target === 'local' ? 'a local no-op handler' : 'an http function';
  const whole = median(sustained.with.map((w, i) => w / sustained.without[i]));
  return {
    ours: { value: ours, unit: 'events/s', label: `emit to ${to} with ${label}` },
    baseline: { value: baseline, unit: 'events/s', label: `emit to ${to}, no archive` },
    ratio: ours / baseline,
    difference: `after the last emit, the archive wrote what it held in ${Math.round(median(drains))} ms (median); emit + close ${whole.toFixed(2)} of no archive; CPU ${median(cpu.with).toFixed(1)} vs ${median(cpu.without).toFixed(1)} µs/event`,
    details: { sustained, cpu, loadavg: require('node:os').loadavg() },
    met: ours / baseline >= 0.8,
  };
}

/** Replays a window into a gateway; events/s (every one emitted and delivered). */
async function replayRate(source, from, to) {
  const { gw, seen } = await gateway([]);
  const started = performance.now();
  const totals = await gw.replay({ source, from, to });
  while (seen() < totals.emitted) await new Promise((r) => setImmediate(r));
  const rate = totals.emitted / ((performance.now() - started) / 1000);
  await gw.close();
  if (totals.emitted !== EVENTS) throw new Error(`replay emitted ${totals.emitted} of ${EVENTS}`);
  return rate;
}

async function fill(archive) {
  const { gw } = await gateway([archive]);
  const from = Date.now();
  await emitRate(gw, 'fill');
  await gw.close();
  return { from, to: Date.now() + 1 };
}

const s3Config = (endpoint) => ({
  region: 'us-east-1',
  endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
});

async function withMoto(run) {
  const moto = await startMoto();
  const s3 = new S3Client(s3Config(moto.endpoint));
  try {
    return await run(moto, s3);
  } finally {
    s3.destroy();
    await moto.stop();
  }
}

/** 'local', or the URL of an http function server running for the time of `run`. */
async function withTarget(to, run) {
  if (to === 'local') return run('local');
  const fn = await startFunctionServer();
  try {
    return await run(fn.url);
  } finally {
    fn.stop();
  }
}

async function withKafka(run) {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const mock = await startKafkaMock();
  try {
    return await run(mock);
  } finally {
    await mock.stop();
  }
}

module.exports = [
  ...['http', 'local'].flatMap((to) => [
    {
      name: `archive-s3-emit-${to}`,
      title: `(k) emit to ${to === 'local' ? 'a local handler' : 'an http function'} with an S3Archive (moto) vs no archive`,
      goal: 'ratio >= 0.8',
      run: () =>
        withMoto((moto, s3) =>
          withTarget(to, async (target) => {
            const { S3Archive } = require('../dist');
            const bucket = `bench-emit-${to}`;
            await s3.send(new CreateBucketCommand({ Bucket: bucket }));
            return emitComparison(
              (round) =>
                new S3Archive({ bucket, prefix: `r${round}/`, s3: s3Config(moto.endpoint) }),
              'S3Archive',
              target,
            );
          }),
        ),
    },
    {
      name: `archive-kafka-emit-${to}`,
      title: `(k) emit to ${to === 'local' ? 'a local handler' : 'an http function'} with a KafkaArchive (mock cluster) vs no archive`,
      goal: 'ratio >= 0.8',
      run: () =>
        withKafka((mock) =>
          withTarget(to, (target) => {
            const { KafkaArchive } = require('../dist');
            return emitComparison(
              (round) =>
                new KafkaArchive({
                  client: { brokers: mock.brokers },
                  topic: `emit-${to}-${round}`,
                  // The default (a thread with more than two cores); KAFKA_PRODUCER_THREAD=0 or 1
                  // compares kafkajs in the host's thread or in its own.
                  producerThread:
                    process.env.KAFKA_PRODUCER_THREAD === undefined
                      ? undefined
                      : process.env.KAFKA_PRODUCER_THREAD !== '0',
                }),
              'KafkaArchive',
              target,
            );
          }),
        ),
    },
  ]),
  {
    name: 'archive-s3-replay',
    title: '(k) replay from S3 (moto) vs raw reads of the same objects',
    goal: 'report',
    run: () =>
      withMoto(async (moto, s3) => {
        const { S3Archive } = require('../dist');
        const bucket = 'bench-replay';
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        const archive = new S3Archive({
          bucket,
          s3: s3Config(moto.endpoint),
          maxObjectBytes: 1024 * 1024,
        });
        const { from, to } = await fill(archive);
        const raw = async () => {
          const started = performance.now();
          let count = 0;
          let token;
          do {
            const page = await s3.send(
              new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
            );
            for (const { Key } of page.Contents ?? []) {
              const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
              const text = gunzipSync(
                Buffer.from(await object.Body.transformToByteArray()),
              ).toString();
              for (const line of text.split('\n'))
                if (line) count += JSON.parse(line).event ? 1 : 0;
            }
            token = page.IsTruncated ? page.NextContinuationToken : undefined;
          } while (token);
          if (count !== EVENTS) throw new Error(`raw read ${count} of ${EVENTS}`);
          return EVENTS / ((performance.now() - started) / 1000);
        };
        return replayComparison(
          archive,
          { from, to },
          raw,
          'raw list + get + gunzip + parse, one object at a time',
        );
      }),
  },
  {
    name: 'archive-kafka-replay',
    title: '(k) replay from Kafka (mock cluster) vs a raw consumer of the same topic',
    goal: 'report',
    run: () =>
      withKafka(async (mock) => {
        const { KafkaArchive } = require('../dist');
        const topic = 'bench-replay';
        const archive = new KafkaArchive({ client: { brokers: mock.brokers }, topic });
        const { from, to } = await fill(archive);
        const raw = async () => {
          const kafka = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING });
          const consumer = kafka.consumer({
            groupId: `raw-${Math.random()}`,
            maxWaitTimeInMs: 100,
          });
          await consumer.connect();
          await consumer.subscribe({ topics: [topic], fromBeginning: true });
          let count = 0;
          let done;
          const all = new Promise((resolve) => (done = resolve));
          const started = performance.now();
          await consumer.run({
            eachBatch: async ({ batch }) => {
              for (const m of batch.messages) count += JSON.parse(m.value.toString()).id ? 1 : 0;
              if (count >= EVENTS) done();
            },
          });
          await all;
          const rate = EVENTS / ((performance.now() - started) / 1000);
          await consumer.disconnect();
          return rate;
        };
        return replayComparison(
          archive,
          { from, to },
          raw,
          'raw kafkajs consumer, parsing every record',
        );
      }),
  },
];

/** Replay against the raw read, alternated over ROUNDS; medians. */
async function replayComparison(archive, { from, to }, raw, label) {
  const ours = [];
  const base = [];
  for (let round = 0; round < ROUNDS; round++) {
    base.push(await raw());
    ours.push(await replayRate(archive, from, to));
  }
  return {
    ours: { value: median(ours), unit: 'events/s', label: 'gateway.replay, emitted and delivered' },
    baseline: { value: median(base), unit: 'events/s', label },
    ratio: median(ours) / median(base),
    met: true,
  };
}
