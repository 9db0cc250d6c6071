import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { cloudEvent } from '../helpers/events';
import { gatewayFixture } from '../helpers/gateway';
import { AwsProxy } from '../helpers/aws-proxy';
import { AWS_TEST, startMoto, type RunningMoto } from '../helpers/moto';

jest.setTimeout(60_000);

let moto: RunningMoto;
let proxy: AwsProxy;
let endpoint: string;
const newGateway = gatewayFixture();
const clientConfig = () => ({
  region: AWS_TEST.region,
  endpoint: moto.endpoint,
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  requestHandler: new NodeHttpHandler(),
});

beforeAll(async () => {
  moto = await startMoto();
  proxy = new AwsProxy(moto.endpoint);
  endpoint = await proxy.start();
});
afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});
beforeEach(() => {
  proxy.calls.length = 0;
});

async function gatewayTo(type: string, provider: Record<string, unknown>) {
  const { gateway } = await newGateway();
  await gateway.registerFunction({
    functionId: 'sink',
    type,
    provider: { endpoint, ...AWS_TEST, ...provider },
  });
  await gateway.createEventType({ name: 'page.viewed' });
  await gateway.subscribe({ eventType: 'page.viewed', functionId: 'sink' });
  return gateway;
}

describe('awskinesis', () => {
  let kinesis: KinesisClient;
  beforeAll(() => (kinesis = new KinesisClient(clientConfig())));
  afterAll(() => kinesis.destroy());

  async function records(stream: string) {
    const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
    const out: { data: Record<string, unknown>; key: string }[] = [];
    for (const shard of Shards ?? []) {
      const { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const got = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
      for (const r of got.Records ?? []) {
        out.push({
          data: JSON.parse(Buffer.from(r.Data as Uint8Array).toString('utf8')),
          key: r.PartitionKey as string,
        });
      }
    }
    return out;
  }

  test('puts each event as a JSON record keyed by its id; records waiting together go out in PutRecords', async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: 'clicks', ShardCount: 2 }));
    const gateway = await gatewayTo('awskinesis', { streamName: 'clicks' });
    const events = Array.from({ length: 30 }, (_, i) =>
      cloudEvent('page.viewed', { i }, { id: `k${i}` }),
    );
    const results = await Promise.all(events.map((e) => gateway.emit(e, { wait: true })));
    for (const { outcomes } of results) {
      expect(outcomes?.[0]).toMatchObject({
        ok: true,
        result: { sequenceNumber: expect.any(String), shardId: expect.any(String) },
      });
    }
    const got = await records('clicks');
    expect(got.map((r) => r.data.id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(got.every((r) => r.key === r.data.id)).toBe(true);
    expect(proxy.actions()).toContain('PutRecords');
  });

  test('the partition key can come from another attribute', async () => {
    await kinesis.send(new CreateStreamCommand({ StreamName: 'by-subject', ShardCount: 1 }));
    const gateway = await gatewayTo('awskinesis', {
      streamName: 'by-subject',
      partitionKeyAttribute: 'subject',
    });
    await gateway.emit(cloudEvent('page.viewed', {}, { subject: 'user-7' }), { wait: true });
    expect((await records('by-subject')).map((r) => r.key)).toEqual(['user-7']);
    expect(proxy.actions()).toContain('PutRecord');
  });

  test('a stream that does not exist is a final failure', async () => {
    const gateway = await gatewayTo('awskinesis', { streamName: 'nowhere' });
    const outcome = (await gateway.emit(cloudEvent('page.viewed'), { wait: true })).outcomes?.[0];
    expect(outcome).toMatchObject({ ok: false, attempts: 1 });
    expect(outcome && !outcome.ok && outcome.error.message).toMatch(/ResourceNotFound/);
  });
});

describe('awsfirehose', () => {
  test('records land in the stream’s S3 bucket as newline-delimited JSON, batched when several wait', async () => {
    const bucket = 'firehose-landing';
    const s3 = new S3Client({ ...clientConfig(), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const firehose = new FirehoseClient(clientConfig());
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'archive',
        ExtendedS3DestinationConfiguration: {
          BucketARN: `arn:aws:s3:::${bucket}`,
          RoleARN: 'arn:aws:iam::123456789012:role/firehose',
        },
      }),
    );
    firehose.destroy();
    const gateway = await gatewayTo('awsfirehose', { deliveryStreamName: 'archive' });
    const events = Array.from({ length: 12 }, (_, i) =>
      cloudEvent('page.viewed', { i }, { id: `f${i}` }),
    );
    const results = await Promise.all(events.map((e) => gateway.emit(e, { wait: true })));
    expect(results.every((r) => r.outcomes?.[0].ok)).toBe(true);
    expect(proxy.actions()).toContain('PutRecordBatch');
    const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    let text = '';
    for (const { Key } of listing.Contents ?? []) {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      text += await object.Body?.transformToString();
    }
    s3.destroy();
    // One event per line, each line a whole event.
    const lines = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
  });
});
