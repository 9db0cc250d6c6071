// At least once across a crash: a gateway process (with a local journal) running a Kafka
// connection is SIGKILLed mid-stream and started again on the same journal: every message's
// event is delivered, and the duplicates are counted (bounded by what was in flight).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startKafkaMock, type RunningKafkaMock } from '../../scripts/servers';
import { until } from '../helpers/connection-runner';

jest.setTimeout(120_000);

let mock: RunningKafkaMock;
const children: ChildProcess[] = [];
let directory: string;

beforeEach(async () => {
  mock = await startKafkaMock();
  directory = mkdtempSync(join(tmpdir(), 'kafka-kill-'));
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await mock.stop();
  rmSync(directory, { recursive: true, force: true });
});

function start(topic: string, received: number[]): Promise<ChildProcess> {
  const child = fork(
    join(__dirname, 'kafka-kill-child.js'),
    [directory, mock.brokers.join(','), topic],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    child.on('message', (message: { ready?: boolean; n?: number }) => {
      if (message.ready) resolve(child);
      if (typeof message.n === 'number') received.push(message.n);
    });
    child.once('exit', (code) => reject(new Error(`the child exited (${code})`)));
  });
}

test('a gateway SIGKILLed mid-stream and restarted loses nothing; duplicates are counted', async () => {
  const topic = 'jobs';
  const N = 400;
  const producer = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: N }, (_, i) => ({ value: JSON.stringify({ n: i }) })),
  });
  await producer.disconnect();
  const received: number[] = [];
  const first = await start(topic, received);
  await until(() => received.length >= 80, 'the first process to be mid-stream', 60_000);
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  const beforeKill = received.length;
  // What the group had committed when it died: everything past it is read again.
  const admin = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const [offsets] = await admin.fetchOffsets({
    groupId: 'event-gateway.default.jobs',
    topics: [topic],
  });
  await admin.disconnect();
  const committed = offsets.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  await start(topic, received);
  await until(() => new Set(received).size === N, `all ${N} events`, 90_000);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const duplicates = received.length - N;
  console.log(
    `SIGKILL after ${beforeKill} deliveries, ${committed} committed: ${N} messages, ${duplicates} duplicates`,
  );
  expect(new Set(received).size).toBe(N);
  // What can come twice: an event past the offset the group had committed when it died (read
  // again, and also resumed from the journal when it was accepted), and a journaled delivery that
  // ended in the last ~10 ms without its finished mark written (the handler takes 2 ms: a few,
  // 32 at most). A fixed bound (100) failed under load: commits lag acceptance there (0-100
  // committed after 90-130 deliveries), which the bound must follow, not guess.
  expect(duplicates).toBeLessThanOrEqual(N - committed + 32);
});
