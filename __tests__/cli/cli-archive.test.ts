// The command's archives and `event-gateway replay`, as real child processes: S3 on moto, Kafka
// on librdkafka's mock cluster, the configuration in etcd.
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import { startKafkaMock } from '../../scripts/servers';
import { AWS_TEST, startMoto, type RunningMoto } from '../helpers/moto';
import { startStoreServer, type StoreServer } from '../helpers/store-servers';
import {
  configure,
  emit,
  functionServer,
  killChildren,
  run,
  start,
  type Running,
} from './cli-process';

jest.setTimeout(90_000);

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: AWS_TEST.region };
let moto: RunningMoto;
let etcd: StoreServer;

beforeAll(async () => {
  [moto, etcd] = await Promise.all([startMoto(), startStoreServer('etcd')]);
});
afterAll(async () => {
  await Promise.all([moto?.stop(), etcd?.dispose()]);
});
afterEach(killChildren);

const stop = async (gateway: Running) => {
  gateway.child.kill('SIGTERM');
  expect(await gateway.exited).toBe(0);
};

test('--archive-s3 archives what the Events API accepts; `replay` sends a window through again, in order', async () => {
  const bucket = `cli-${Date.now()}`;
  const s3 = new S3Client({
    region: AWS_TEST.region,
    endpoint: moto.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const fn = await functionServer();
  // The function runs on this machine: loopback functions are refused unless allowed.
  const store = ['-db-hosts', `127.0.0.1:${etcd.port}`, '--allow-private-functions'];
  const archive = ['--archive-s3', `s3://${bucket}/gw`, '--s3-endpoint', moto.endpoint];
  const gateway = await start([...store, ...archive], AWS_ENV);
  await configure(gateway.config, fn.url);
  const from = Date.now();
  const ids = Array.from({ length: 20 }, (_, i) => `c-${i}`);
  for (const id of ids) expect(await emit(gateway.events, id)).toBe(202);
  await stop(gateway); // flushes the archive
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  expect(listed.Contents?.length).toBeGreaterThan(0);
  expect(listed.Contents!.every((o) => o.Key!.startsWith('gw/default/order.placed/'))).toBe(true);

  const dry = run(['replay', ...store, ...archive, '--from', String(from), '--dry-run'], AWS_ENV);
  expect(await dry.exited).toBe(0);
  expect(JSON.parse(dry.output().trim().split('\n').at(-1)!)).toMatchObject({
    read: 20,
    emitted: 20,
    deliveries: 20,
    byFunction: [{ space: 'default', functionId: 'fn', deliveries: 20 }],
  });
  const before = fn.received.length;
  const replay = run(
    ['replay', ...store, ...archive, '--from', new Date(from).toISOString(), '--rate', '1000'],
    AWS_ENV,
  );
  expect(await replay.exited).toBe(0);
  const totals = JSON.parse(replay.output().trim().split('\n').at(-1)!);
  expect(totals).toMatchObject({
    read: 20,
    emitted: 20,
    refused: 0,
    deliveries: 20,
    undelivered: 0,
  });
  expect(fn.received.slice(before).map((e) => e.id)).toEqual(ids);

  // With --dashboard, the page's replay form reads the archive (the replayed events were not
  // archived again); its dry run sends nothing.
  const withDashboard = await start([...store, ...archive, '--dashboard'], AWS_ENV);
  const dryRun = await fetch(`${withDashboard.config}/dashboard/api/spaces/default/replay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from: new Date(from).toISOString(), to: new Date().toISOString() }),
  });
  expect(await dryRun.json()).toMatchObject({
    read: 20,
    deliveries: 20,
    byFunction: [{ functionId: 'fn', deliveries: 20 }],
    complete: true,
  });
  expect(fn.received.length).toBe(before + 20);
  await stop(withDashboard);
  fn.server.close();
  s3.destroy();
});

test('--archive-kafka archives to a topic; bad archive flags are one line and exit 2', async () => {
  const mock = await startKafkaMock();
  try {
    const gateway = await start([
      '--dev',
      '--archive-kafka',
      mock.brokers.join(','),
      '--archive-topic',
      'cli-archive',
    ]);
    for (let i = 0; i < 5; i++) expect(await emit(gateway.events, `k-${i}`)).toBe(202);
    await stop(gateway);
    const admin = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets('cli-archive');
    await admin.disconnect();
    expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(5);
  } finally {
    await mock.stop();
  }
  for (const [args, message] of [
    [['--dev', '--archive-s3', 'bucket'], /--archive-s3 must look like s3:\/\/bucket/],
    [['--dev', '--archive-when-full', 'maybe'], /--archive-when-full must be refuse or drop/],
    [['replay', '--dev', '--from', '0'], /give --archive-s3 or --archive-kafka/],
    [['--dev', '--from', '0'], /--from is a replay flag/],
    [['replay', '--dev', '--archive-kafka', '127.0.0.1:1'], /replay needs --from/],
  ] as const) {
    const bad = run([...args]);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(message);
  }
});
