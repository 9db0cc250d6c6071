// The Kafka journal against a real Kafka protocol endpoint: librdkafka's mock cluster through
// kcat (3 brokers, in memory). No real Kafka broker installs here; the mock speaks the protocol
// kafkajs uses (produce with acks=-1, consumer groups, offset commits).
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startKafkaMock, type RunningKafkaMock } from '../../scripts/servers';
import { createGateway, KafkaJournal, MemoryStore, type Gateway } from '../../lib';

jest.setTimeout(90_000);

interface Received {
  id: string;
  deliveryId: string;
  instance: string;
}

/** The function: a real HTTP server that answers after `delay` ms, or holds events it is told. */
async function functionServer() {
  const state = { delay: 2 };
  const received: Received[] = [];
  const held = new Map<string, () => void>();
  const holding = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const answer = () =>
        setTimeout(() => {
          received.push({
            id: event.id,
            deliveryId: event.deliveryid,
            instance: (req.url ?? '/').slice(1),
          });
          res.end('ok');
        }, state.delay);
      if (holding.has(event.id)) held.set(event.id, answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, received, held, holding, url, state };
}

async function until(check: () => boolean, what: string, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let mock: RunningKafkaMock;
let fn: Awaited<ReturnType<typeof functionServer>>;
let topicCount = 0;
const children: ChildProcess[] = [];

beforeEach(async () => {
  mock = await startKafkaMock();
  fn = await functionServer();
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await mock.stop();
  fn.server.closeAllConnections();
  await new Promise((resolve) => fn.server.close(resolve));
});

async function gatewayOn(
  topic: string,
  onError: (error: Error) => void = () => {},
  options: { compactRecords?: boolean; recordFormat?: 3 | 4 } = {},
): Promise<{ gateway: Gateway; journal: KafkaJournal }> {
  const journal = new KafkaJournal({
    ...options,
    client: { brokers: mock.brokers, retry: { retries: 1, initialRetryTime: 100 } },
    topic,
    groupId: `group-${topic}`,
    consumer: { sessionTimeout: 6000, heartbeatInterval: 300 },
    commitInterval: 20,
  });
  const gateway = createGateway(new MemoryStore(), { resyncInterval: 0, journal });
  // From the start: the journal reports what it meets as soon as it opens.
  gateway.on('gateway.error', onError);
  await gateway.registerFunction({
    functionId: 'fn',
    type: 'http',
    provider: { url: `${fn.url}/here` },
  });
  await gateway.createEventType({ name: 'job.created' });
  await gateway.subscribe({ eventType: 'job.created', functionId: 'fn' });
  await gateway.ready();
  return { gateway, journal };
}

const event = (id: string) => ({ specversion: '1.0', id, source: '/test', type: 'job.created' });

/** The records on `topic` (its partitions' high watermarks: nothing is deleted here). */
async function records(topic: string): Promise<number> {
  const admin = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

async function committed(topic: string): Promise<number> {
  const admin = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: `group-${topic}`, topics: [topic] });
    return offsets.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

test('emit resolves once the event is on Kafka; the group delivers it with a stable delivery id, and commits only past ended deliveries', async () => {
  const topic = `journal-${++topicCount}`;
  const { gateway, journal } = await gatewayOn(topic);
  fn.holding.add('slow');
  await gateway.emit(event('slow'));
  const ids = Array.from({ length: 40 }, (_, i) => `e${i}`);
  const results = await Promise.all(ids.map((id) => gateway.emit(event(id))));
  expect(results.every((r) => r.accepted === 1)).toBe(true);
  // Grouped: the 40 concurrent emits shared far fewer produce requests.
  expect(journal.requests).toBeLessThan(20);
  await until(() => fn.received.length === 40 && fn.held.has('slow'), 'the fast deliveries');
  await new Promise((resolve) => setTimeout(resolve, 200));
  // The held delivery keeps its record (and maybe some after it) uncommitted.
  const written = await records(topic);
  expect(await committed(topic)).toBeLessThan(written);
  expect(gateway.health().journal?.entries).toBeGreaterThanOrEqual(1);
  fn.held.get('slow')?.();
  await until(() => fn.received.length === 41, 'the held delivery');
  await until(() => journal.size().entries === 0, 'the journal to empty');
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await committed(topic)).toBe(written);
  for (const r of fn.received) expect(r.deliveryId).toMatch(/^[0-9a-f-]{36}$/);
  await gateway.close();
});

test('records of an earlier version (a list of entries) are delivered beside compact ones', async () => {
  const topic = `journal-${++topicCount}`;
  const producer = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  const deliveryId = '5f0c7c1e-0000-4000-8000-00000000000a';
  const old = [
    {
      deliveryId,
      space: 'default',
      event: { ...event('old'), deliveryid: deliveryId },
      subscriptionId: 'written-before',
      functionId: 'fn',
      attempts: 0,
      acceptedAt: Date.now(),
    },
  ];
  await producer.send({ topic, acks: -1, messages: [{ value: JSON.stringify(old) }] });
  await producer.disconnect();
  const errors: Error[] = [];
  const { gateway } = await gatewayOn(topic, (error) => errors.push(error));
  await gateway.emit(event('new'));
  await until(() => fn.received.length === 2, 'both events');
  const byId = Object.fromEntries(fn.received.map((r) => [r.id, r.deliveryId]));
  expect(byId.old).toBe(deliveryId);
  expect(byId.new).toMatch(/^[0-9a-f-]{36}$/);
  expect(errors).toEqual([]);
  await gateway.close();
});

test('with compactRecords false, records are lists of entries, as versions before compact records read them', async () => {
  const topic = `journal-${++topicCount}`;
  const { gateway } = await gatewayOn(topic, undefined, { compactRecords: false });
  await gateway.emit(event('listed'));
  await until(() => fn.received.length === 1, 'the event');
  await gateway.close();
  const consumer = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `raw-${topic}`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const values: unknown[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => void values.push(JSON.parse(String(message.value))),
  });
  await until(() => values.length === 1, 'the record');
  await consumer.disconnect();
  expect(values[0]).toEqual([
    expect.objectContaining({ deliveryId: fn.received[0].deliveryId, functionId: 'fn' }),
  ]);
});

test('with recordFormat 3, records are written as the versions before format 4 read them; format 4 by default', async () => {
  const written = async (topic: string) => {
    const consumer = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).consumer({
      groupId: `raw-${topic}`,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const values: { v?: number }[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => void values.push(JSON.parse(String(message.value))),
    });
    await until(() => values.length >= 1, 'the record');
    await consumer.disconnect();
    return values.map((value) => value.v);
  };
  for (const recordFormat of [3, 4] as const) {
    const topic = `journal-${++topicCount}`;
    const { gateway } = await gatewayOn(
      topic,
      undefined,
      recordFormat === 3 ? { recordFormat } : {},
    );
    await Promise.all([gateway.emit(event('x')), gateway.emit(event('y'))]);
    await until(() => fn.received.filter((r) => r.id === 'y').length === 1, 'the events');
    await gateway.close();
    expect(await written(topic)).toEqual([recordFormat]);
  }
  expect(
    () => new KafkaJournal({ client: { brokers: mock.brokers }, recordFormat: 5 as 4 }),
  ).toThrow(/recordFormat/);
});

test('the emits of one produce request share one record: 300 concurrent emits, far fewer records, each delivered once', async () => {
  const topic = `journal-${++topicCount}`;
  const { gateway, journal } = await gatewayOn(topic);
  await Promise.all(Array.from({ length: 300 }, (_, i) => gateway.emit(event(`g${i}`))));
  await until(() => fn.received.length === 300, 'every event');
  await until(() => journal.size().entries === 0, 'the journal to empty');
  await gateway.close();
  const ids = new Set(fn.received.map((r) => r.deliveryId));
  expect(ids.size).toBe(300);
  // A record per produce request (the emits of a turn), up to 64 emits each: not one per emit.
  expect(await records(topic)).toBeLessThan(30);
});

test('a record the journal did not write is reported and passed over; the partition goes on', async () => {
  const topic = `journal-${++topicCount}`;
  const producer = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  // Every partition gets garbage: not JSON, and JSON of the wrong shape.
  const garbage = ['not json', '[{"deliveryId":1}]', '{"a":1}', 'null'];
  for (let partition = 0; partition < 4; partition++) {
    await producer.send({
      topic,
      acks: -1,
      messages: garbage.map((value) => ({ value, partition })),
    });
  }
  await producer.disconnect();
  const errors: string[] = [];
  const codes = new Set<unknown>();
  const { gateway } = await gatewayOn(topic, (error) => {
    codes.add((error as { code?: string }).code);
    errors.push(error.message);
  });
  await gateway.emit(event('real'));
  await until(() => fn.received.length === 1, 'the real event');
  expect(fn.received[0].id).toBe('real');
  // Partitions are consumed in any order: the real event may come before another's garbage.
  const skipped = () => errors.filter((m) => m.includes('skipped record'));
  await until(() => skipped().length >= 16, 'a report of each of the 16 records');
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(skipped()).toHaveLength(16);
  expect([...codes]).toEqual(['JOURNAL_RECORD_DAMAGED']);
  // Counted where an operator looks, as a LocalJournal counts what it sets aside.
  expect(gateway.health().journal).toMatchObject({ damaged: 16 });
  expect(gateway.metrics().journalDamaged).toBe(16);
  await until(() => gateway.health().journal?.entries === 0, 'the journal to empty');
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await committed(topic)).toBe(17);
  await gateway.close();
});

test('brokers that fail make emit reject with JOURNAL_UNAVAILABLE: nothing unrecorded is accepted or delivered', async () => {
  const topic = `journal-${++topicCount}`;
  const { gateway } = await gatewayOn(topic);
  await gateway.emit(event('before'));
  await until(() => fn.received.length === 1, 'the first delivery');
  await mock.stop();
  await expect(gateway.emit(event('after'))).rejects.toMatchObject({
    code: 'JOURNAL_UNAVAILABLE',
    status: 503,
  });
  expect(gateway.metrics().eventsRejected).toBe(1);
  const started = Date.now();
  await gateway.close();
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(fn.received.map((r) => r.id)).toEqual(['before']);
});

function startChild(instance: string, topic: string, concurrency = 2): Promise<ChildProcess> {
  const child = fork(
    join(__dirname, 'kafka-child.js'),
    [mock.brokers.join(','), topic, `${fn.url}/${instance}`, String(concurrency)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`the gateway process exited with ${code}`)));
  });
}

test('two gateway processes in one group: one is SIGKILLed mid-stream, the other delivers every accepted event', async () => {
  const topic = `journal-${++topicCount}`;
  // Slow enough (50 ms, 2 at a time per instance) that the kill lands mid-stream.
  fn.state.delay = 50;
  const a = await startChild('a', topic);
  const b = await startChild('b', topic);
  const accepted = new Set<string>();
  const refused = new Set<string>();
  a.on('message', (m: { id?: string; accepted?: boolean }) => {
    if (m.id) (m.accepted ? accepted : refused).add(m.id);
  });
  // Both instances joined first (one emit at a time, each its own record, spread over the
  // partitions, until each instance delivered one): the kill is what this test counts, not the
  // rebalance of a join, where the instance that loses partitions still makes what it took.
  let warm = 0;
  const delivered = (instance: string) => fn.received.some((r) => r.instance === instance);
  const warmUntil = Date.now() + 60_000;
  while (!(delivered('a') && delivered('b'))) {
    if (Date.now() > warmUntil) throw new Error('timed out waiting for both instances to join');
    const id = `w${warm++}`;
    a.send({ id });
    await until(() => accepted.has(id) || refused.has(id), 'a warm-up emit');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const before = fn.received.length;
  const N = 400;
  for (let i = 0; i < N; i++) a.send({ id: `e${i}` });
  await until(() => accepted.size + refused.size === N + warm, 'every emit to be answered');
  await until(() => fn.received.length >= before + 60, 'deliveries under way', 60_000);
  a.kill('SIGKILL');
  const killedAt = fn.received.length;
  await until(
    () => [...accepted].every((id) => fn.received.some((r) => r.id === id)),
    'the survivor to deliver every accepted event',
    60_000,
  );
  const counts = new Map<string, number>();
  for (const r of fn.received) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
  const duplicates = [...counts.values()].filter((n) => n > 1).length;
  if (process.env.DEBUG_DUPS) {
    const firstAt = new Map<string, number>();
    fn.received.forEach((r, i) => {
      if ((counts.get(r.id) ?? 0) > 1) {
        process.stdout.write(
          `${r.id} #${i} by ${r.instance}${i < killedAt ? ' (before kill)' : ''} first #${firstAt.get(r.id) ?? '-'}\n`,
        );
        if (!firstAt.has(r.id)) firstAt.set(r.id, i);
      }
    });
  }
  process.stdout.write(
    `kafka fleet: ${accepted.size} accepted, ${refused.size} refused, killed after ${killedAt} deliveries, ${duplicates} delivered twice (in flight at the kill or uncommitted)\n`,
  );
  expect(refused.size).toBe(0);
  expect(accepted.size).toBe(N + warm);
  expect(fn.received.filter((r) => r.instance === 'b').length).toBeGreaterThan(0);
  // Made twice: what was in flight at the kill and what ended since the last commit that reached
  // the brokers. On a quiet machine that is 2-4 (before finished marks a grouped record
  // redelivered every delivery in it: 24-101 of 400), but commits lag under load (15 and 27 seen
  // in CI), so a fixed bound here measured the machine: printed, not asserted. The marks
  // themselves are held exactly by the next test (only the two in flight come back).
  const killedSignal = new Promise((resolve) => b.once('exit', resolve));
  b.kill('SIGTERM');
  expect(await killedSignal).toBe(0);
});

test('after a SIGKILL, the next instance makes only the unfinished deliveries of partly finished records', async () => {
  const topic = `journal-${++topicCount}`;
  // Two deliveries never answered (in flight at the kill); the rest of their records end.
  fn.holding.add('e0');
  fn.holding.add('e1');
  const a = await startChild('a', topic, 4);
  const accepted = new Set<string>();
  a.on('message', (m: { id?: string; accepted?: boolean }) => {
    if (m.id && m.accepted) accepted.add(m.id);
  });
  const N = 40;
  for (let i = 0; i < N; i++) a.send({ id: `e${i}` });
  await until(() => accepted.size === N, 'every emit to be accepted');
  await until(() => fn.received.length === N - 2 && fn.held.size === 2, 'the other 38', 60_000);
  // Long past the commit interval (20 ms): every finished delivery's mark is committed.
  await new Promise((resolve) => setTimeout(resolve, 500));
  a.kill('SIGKILL');
  fn.holding.clear();
  const b = await startChild('b', topic, 4);
  await until(
    () => ['e0', 'e1'].every((id) => fn.received.some((r) => r.id === id && r.instance === 'b')),
    'the next instance to make the two unfinished deliveries',
    60_000,
  );
  // Anything else it would make again comes with them (records are taken whole): give it time.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const again = fn.received.filter((r) => r.instance === 'b').map((r) => r.id);
  expect(again.sort()).toEqual(['e0', 'e1']);
  const stopped = new Promise((resolve) => b.once('exit', resolve));
  b.kill('SIGTERM');
  expect(await stopped).toBe(0);
});

test('a gateway closed just after its brokers died stops: no consumer loop is left spinning', async () => {
  // The window is a few hundred ms wide; before the fix about half of these runs hung at 95% CPU.
  for (const delay of [100, 200, 300]) {
    const child = fork(join(__dirname, 'kafka-close-child.js'), [String(delay)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    const code = await new Promise((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('hung');
      }, 20_000);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect({ delay, code }).toEqual({ delay, code: 0 });
  }
});

test("the workaround stays in the gateway's consumers: the host's own kafkajs consumer runs stock kafkajs", async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs internals
  const Runner = require('kafkajs/src/consumer/runner');
  const stockFetch = Runner.prototype.fetch;
  const topic = `journal-${++topicCount}`;
  const { gateway } = await gatewayOn(topic);
  await gateway.emit(event('a'));
  await until(() => fn.received.length === 1, 'the delivery');
  // The host's consumer, made after the gateway's journal started, in the same process.
  const host = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: `host-${topic}`,
  });
  await host.connect();
  await host.subscribe({ topics: [topic], fromBeginning: true });
  const seen: string[] = [];
  await host.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
  await until(() => seen.length === 1, "the host's consumer");
  expect(Runner.prototype.fetch).toBe(stockFetch);
  // A stopped stock runner still answers an empty fetch, as kafkajs does.
  const quiet = { debug: () => {}, info: () => {}, namespace: () => quiet };
  const stopped = new Runner({ logger: quiet, consumerGroup: {}, instrumentationEmitter: {} });
  await expect(stopped.fetch(0)).resolves.toEqual([]);
  await host.disconnect();
  await gateway.close();
});
