import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { gunzipSync } from 'node:zlib';
import {
  createGateway,
  EventRefusedError,
  MemoryStore,
  S3Archive,
  type ArchiveDroppedReport,
  type Gateway,
} from '../../lib';
import { AWS_TEST, startMoto, type RunningMoto } from '../helpers/moto';
import { TcpProxy } from '../helpers/tcp-proxy';
import { archiveStats, event, recordingGateway, settled, until } from './archive-fixture';

/** A line of an archive object, as a plain reader sees it. */
interface ArchiveLine {
  acceptedAt: string;
  space: string;
  method: string;
  path: string;
  event: { id: string; type: string };
}

let moto: RunningMoto;
let proxy: TcpProxy;
let s3: S3Client;
let bucketCount = 0;

const s3Config = (endpoint: string) => ({
  region: AWS_TEST.region,
  endpoint,
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  forcePathStyle: true,
  requestHandler: new NodeHttpHandler({ connectionTimeout: 500 }),
});

beforeAll(async () => {
  moto = await startMoto();
  proxy = await TcpProxy.start(Number(new URL(moto.endpoint).port));
  s3 = new S3Client(s3Config(moto.endpoint));
});

afterAll(async () => {
  s3?.destroy();
  await proxy?.close();
  await moto?.stop();
});

async function newBucket(): Promise<string> {
  const bucket = `archive-${++bucketCount}-${Date.now()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Every object of the bucket, read with a plain S3 client: key, and its lines parsed. */
async function readBucket(bucket: string): Promise<{ key: string; lines: ArchiveLine[] }[]> {
  const out: { key: string; lines: ArchiveLine[] }[] = [];
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  for (const { Key } of listed.Contents ?? []) {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    const text = (Key!.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString();
    out.push({
      key: Key!,
      lines: text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    });
  }
  return out;
}

const archivedIds = async (bucket: string) =>
  (await readBucket(bucket)).flatMap((o) => o.lines.map((l) => l.event.id as string));

describe('S3Archive (moto S3)', () => {
  let gateways: Gateway[] = [];
  afterEach(async () => {
    proxy.unblock();
    await Promise.all(gateways.map((g) => g.close()));
    gateways = [];
  });

  const archiveGateway = async (
    archive: S3Archive,
    extra: Parameters<typeof recordingGateway>[0] = {},
    spaces?: string[],
  ) => {
    const made = await recordingGateway({ plugins: [archive], ...extra }, spaces);
    gateways.push(made.gateway);
    return made;
  };

  test('each accepted event is archived exactly once, in objects per space and type a plain client reads', async () => {
    const bucket = await newBucket();
    const archive = new S3Archive({ bucket, s3: s3Config(proxy.url), maxObjectAge: 200 });
    const { gateway } = await archiveGateway(
      archive,
      {
        plugins: [
          {
            name: 'guard',
            onEvent: (e) => (e.id.endsWith('-refused') ? { refuse: 'no' } : undefined),
          },
          archive,
        ],
      },
      ['default', 'shop'],
    );
    const accepted: string[] = [];
    for (let i = 0; i < 40; i++) {
      const space = i % 2 ? 'shop' : 'default';
      const type = i % 3 ? 'user.created' : 'order.placed';
      await gateway.emit(event(`e-${i}`, type), { space });
      accepted.push(`e-${i}`);
      await expect(gateway.emit(event(`e-${i}-refused`), { space })).rejects.toBeInstanceOf(
        EventRefusedError,
      );
    }
    await until(() => archiveStats(gateway, 's3-archive').archived === 40, 10_000, 'archived');
    const objects = await readBucket(bucket);
    expect(objects.flatMap((o) => o.lines.map((l) => l.event.id)).sort()).toEqual(accepted.sort());
    for (const { key, lines } of objects) {
      expect(key).toMatch(
        /^events\/(default|shop)\/(user\.created|order\.placed)\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{8}T\d{9}Z-\d{8}T\d{9}Z-[0-9a-f]{12}\.ndjson\.gz$/,
      );
      const [, space, type] = key.split('/');
      for (const line of lines) {
        expect(line).toMatchObject({ space, method: 'POST', path: '/', event: { type } });
        expect(Date.parse(line.acceptedAt)).toBeGreaterThan(Date.now() - 60_000);
      }
    }
    expect(archiveStats(gateway, 's3-archive')).toMatchObject({
      archived: 40,
      bufferedEvents: 0,
      lost: 0,
    });
  });

  test('objects are written when they reach maxObjectBytes, and close() flushes the rest', async () => {
    const bucket = await newBucket();
    const archive = new S3Archive({
      bucket,
      s3: s3Config(proxy.url),
      maxObjectBytes: 2000,
      maxObjectAge: 3_600_000,
      compression: 'none',
    });
    const { gateway } = await archiveGateway(archive);
    for (let i = 0; i < 30; i++) await gateway.emit(event(`s-${i}`));
    await until(
      () => archiveStats(gateway, 's3-archive').writes >= 3,
      10_000,
      'size-sealed objects',
    );
    expect(archiveStats(gateway, 's3-archive').bufferedEvents).toBeGreaterThan(0); // the open one
    await gateway.close();
    const ids = await archivedIds(bucket);
    expect(ids.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `s-${i}`).sort());
    expect((await readBucket(bucket)).every((o) => o.key.endsWith('.ndjson'))).toBe(true);
  });

  test('S3 down: events wait within the bound, then new ones are refused (503); back up, every accepted one is archived', async () => {
    const bucket = await newBucket();
    const archive = new S3Archive({
      bucket,
      s3: s3Config(proxy.url),
      maxObjectAge: 50,
      maxBufferBytes: 3000,
      retry: { initialDelay: 20, maxDelay: 100 },
      writeTimeout: 1000,
    });
    const { gateway, received } = await archiveGateway(archive);
    const errors: string[] = [];
    gateway.on('gateway.error', (e) => errors.push(e.message));
    proxy.block();
    const accepted: string[] = [];
    let refusal: unknown;
    for (let i = 0; i < 100 && !refusal; i++) {
      try {
        await gateway.emit(event(`d-${i}`));
        accepted.push(`d-${i}`);
      } catch (error) {
        refusal = error;
      }
      await new Promise((r) => setTimeout(r, 5)); // let objects seal by age
    }
    expect(refusal).toBeInstanceOf(EventRefusedError);
    expect((refusal as EventRefusedError).status).toBe(503);
    expect((refusal as Error).message).toMatch(/The archive "s3-archive" is full/);
    expect(accepted.length).toBeGreaterThan(5);
    const stats = archiveStats(gateway, 's3-archive');
    expect(stats.bufferedBytes).toBeGreaterThanOrEqual(3000);
    expect(stats.bufferedBytes).toBeLessThan(3000 + 400); // one event past the bound at most
    // The buffer can fill before the first write has failed (the bound counts bytes, not failures):
    // wait for the failure rather than expect it at this moment.
    await until(
      () => archiveStats(gateway, 's3-archive').writeFailures > 0,
      10_000,
      'a failed write',
    );
    await until(() => errors.some((m) => m.includes('failed to write')), 10_000, 'its report');
    await settled(gateway);
    expect(received.map((e) => e.id)).toEqual(accepted); // the refused one reached no function
    proxy.unblock();
    await until(
      () => archiveStats(gateway, 's3-archive').bufferedEvents === 0,
      15_000,
      'the backlog',
    );
    expect((await archivedIds(bucket)).sort()).toEqual([...accepted].sort());
    await gateway.emit(event('after')); // room again
  });

  test("whenFull 'drop': events go on being delivered, the archive drops them, counted and reported", async () => {
    const bucket = await newBucket();
    const archive = new S3Archive({
      bucket,
      s3: s3Config(proxy.url),
      maxObjectAge: 50,
      maxBufferBytes: 2000,
      whenFull: 'drop',
      retry: { initialDelay: 20, maxDelay: 100 },
      writeTimeout: 1000,
    });
    const { gateway, received } = await archiveGateway(archive);
    const reports: ArchiveDroppedReport[] = [];
    gateway.on('archive.dropped', (report) => reports.push(report));
    proxy.block();
    for (let i = 0; i < 40; i++) await gateway.emit(event(`p-${i}`));
    await settled(gateway);
    expect(received).toHaveLength(40);
    const { dropped } = archiveStats(gateway, 's3-archive');
    expect(dropped).toBeGreaterThan(0);
    await until(() => reports.length > 0, 3000, 'the archive.dropped event');
    expect(reports[0]).toMatchObject({ archive: 's3-archive', space: 'default', dropped });
    expect(reports[0].eventIds).toContain('p-39');
    proxy.unblock();
    await until(
      () => archiveStats(gateway, 's3-archive').bufferedEvents === 0,
      15_000,
      'the backlog',
    );
    const ids = await archivedIds(bucket);
    expect(ids).toHaveLength(40 - dropped);
    expect(ids).not.toContain('p-39');
  });

  test('close() with S3 down reports, within drainTimeout, the events it could not archive', async () => {
    const bucket = await newBucket();
    const archive = new S3Archive({
      bucket,
      s3: s3Config(proxy.url),
      retry: { initialDelay: 20, maxDelay: 50 },
      writeTimeout: 500,
    });
    const { gateway } = await archiveGateway(archive, { drainTimeout: 500 });
    const errors: string[] = [];
    gateway.on('gateway.error', (e) => errors.push(e.message));
    proxy.block();
    for (let i = 0; i < 5; i++) await gateway.emit(event(`c-${i}`));
    const started = Date.now();
    await gateway.close();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(errors.some((m) => /could not write 5 events before the gateway closed/.test(m))).toBe(
      true,
    );
    expect(archiveStats(gateway, 's3-archive').lost).toBe(5);
    // A closed archive can still be read, but no gateway may write through it again.
    expect(() => createGateway(new MemoryStore(), { plugins: [archive] })).toThrow(/was closed/);
  });

  test('a replay of a time window delivers the same events to a fresh gateway, in the same order, once', async () => {
    const bucket = await newBucket();
    const writer = new S3Archive({
      bucket,
      s3: s3Config(moto.endpoint),
      maxObjectAge: 100,
      maxObjectBytes: 1500,
    });
    const { gateway } = await archiveGateway(writer);
    for (let i = 0; i < 10; i++) await gateway.emit(event(`before-${i}`));
    await new Promise((r) => setTimeout(r, 20));
    const from = Date.now();
    const inWindow: string[] = [];
    for (let i = 0; i < 60; i++) {
      const id = `in-${i}`;
      await gateway.emit(event(id, i % 4 ? 'user.created' : 'order.placed'));
      inWindow.push(id);
    }
    await new Promise((r) => setTimeout(r, 20));
    const to = Date.now();
    for (let i = 0; i < 10; i++) await gateway.emit(event(`after-${i}`));
    await gateway.close();

    // A fresh gateway, archiving too: replayed events are not archived again.
    const reader = new S3Archive({ bucket, s3: s3Config(moto.endpoint), name: 'reader' });
    const fresh = await archiveGateway(reader);
    const progress: number[] = [];
    const totals = await fresh.gateway.replay({
      source: reader,
      from,
      to,
      onProgress: (p) => progress.push(p.emitted),
      progressInterval: 1,
    });
    expect(totals).toMatchObject({ read: 60, emitted: 60, refused: 0, deliveries: 60 });
    expect(progress.at(-1)).toBe(60);
    await settled(fresh.gateway);
    expect(fresh.received.map((e) => e.id)).toEqual(inWindow);
    expect(fresh.received.every((e) => e.eventgatewayreplay === totals.replayId)).toBe(true);
    expect(fresh.received[0].hopcount).toBe(0); // as first accepted: a replay is no hop
    await fresh.gateway.close();
    expect(archiveStats(fresh.gateway, 'reader').archived).toBe(0);

    // One type only, at a bounded rate; and a dry run that only counts.
    const typed = await recordingGateway();
    gateways.push(typed.gateway);
    const started = Date.now();
    const onlyOrders = await typed.gateway.replay({
      source: reader,
      from,
      to,
      type: 'order.placed',
      rate: 100,
    });
    expect(onlyOrders.emitted).toBe(15);
    expect(Date.now() - started).toBeGreaterThanOrEqual(130); // 15 events at 100/s
    await settled(typed.gateway);
    expect(typed.received.map((e) => e.id)).toEqual(inWindow.filter((_, i) => i % 4 === 0));
    const dry = await typed.gateway.replay({ source: reader, from, to, dryRun: true });
    expect(dry).toMatchObject({
      read: 60,
      emitted: 60,
      deliveries: 60,
      byFunction: [{ space: 'default', functionId: 'recorder', deliveries: 60 }],
    });
    expect(typed.received).toHaveLength(15); // the dry run sent nothing
  });

  test('an event type too long to spell out in a key is archived and replayed all the same', async () => {
    const bucket = await newBucket();
    const archive = new S3Archive({ bucket, s3: s3Config(moto.endpoint), maxObjectAge: 50 });
    const long = `order.${'é/'.repeat(120)}placed`; // 252 characters, over 1 KiB URI-encoded
    const { gateway } = await archiveGateway(archive);
    const from = Date.now();
    await gateway.emit(event('long-1', long));
    await gateway.emit(event('short-1'));
    await until(() => archiveStats(gateway, 's3-archive').archived === 2, 10_000, 'archived');
    const keys = (await readBucket(bucket)).map((o) => o.key);
    expect(keys.every((k) => Buffer.byteLength(k) < 1024)).toBe(true);
    expect(keys.some((k) => /~[0-9a-f]{32}\//.test(k))).toBe(true);
    const fresh = await recordingGateway();
    gateways.push(fresh.gateway);
    const totals = await fresh.gateway.replay({ source: archive, from, type: long, dryRun: true });
    expect(totals).toMatchObject({ read: 1, emitted: 1 });
  });

  test('a replay stops at a damaged object with ArchiveUnavailableError naming it; foreign objects are passed over', async () => {
    const bucket = await newBucket();
    const put = (Key: string, Body: string) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    const hour = new Date().toISOString().slice(0, 13).replace(/[-T]/g, '/');
    await put('events/README.txt', 'not an archive object');
    await put(`events/default/x/${hour}/${stamp}-${stamp}-abc.ndjson`, '{"acceptedAt":"x"}\n');
    const { gateway } = await recordingGateway();
    gateways.push(gateway);
    const archive = new S3Archive({ bucket, s3: s3Config(moto.endpoint) });
    await expect(gateway.replay({ source: archive, from: 0 })).rejects.toThrow(
      /not an archived event \(events\/default\/x\/.*-abc\.ndjson, line 1\)/,
    );
  });

  test('a replay lists each series (space, type) only from the hours its window can need', async () => {
    const bucket = await newBucket();
    const old = `events/shop/order.placed/2020/01/01/00/20200101T000000000Z-20200101T000001000Z-0ld.ndjson`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: old, Body: '{"damaged":\n' }));
    const writer = new S3Archive({ bucket, s3: s3Config(moto.endpoint), maxObjectAge: 50 });
    const { gateway } = await archiveGateway(writer, {}, ['default', 'shop']);
    const from = Date.now();
    await gateway.emit(event('recent-1'));
    await gateway.emit(event('recent-2', 'order.placed'), { space: 'shop' });
    await until(() => archiveStats(gateway, 's3-archive').archived === 2, 10_000, 'archived');
    const real = new S3Client(s3Config(moto.endpoint));
    const listed: string[] = [];
    const counting = {
      send: async (command: object, options?: object) => {
        const out = (await real.send(command as never, options)) as {
          Contents?: { Key?: string }[];
        };
        if (command.constructor.name === 'ListObjectsV2Command') {
          listed.push(...(out.Contents ?? []).map((c) => c.Key!));
        }
        return out;
      },
    };
    const reader = new S3Archive({ bucket, s3: counting, name: 'reader' });
    const fresh = await recordingGateway({}, ['default', 'shop']);
    gateways.push(fresh.gateway);
    const totals = await fresh.gateway.replay({ source: reader, from });
    expect(totals).toMatchObject({ read: 2, emitted: 2 });
    expect(listed).not.toContain(old); // the 2020 hour of shop/order.placed was never listed
    expect(listed.length).toBe(2);
    real.destroy();
  });

  test('replay from an unreachable archive rejects with ArchiveUnavailableError; bad options are refused', async () => {
    const { gateway } = await recordingGateway();
    gateways.push(gateway);
    proxy.block();
    const archive = new S3Archive({ bucket: 'nowhere', s3: s3Config(proxy.url) });
    await expect(gateway.replay({ source: archive, from: 0 })).rejects.toMatchObject({
      code: 'ARCHIVE_UNAVAILABLE',
    });
    await expect(gateway.replay({ source: archive, from: 'yesterday' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(gateway.replay({ source: {} as never, from: 0 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(gateway.replay({ source: archive, from: 10, to: 5 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(() => new S3Archive({ bucket: 'b' })).toThrow(/bucket/);
    expect(() => new S3Archive({ bucket: 'bucket', maxObjectAge: 7_200_000 })).toThrow(
      /maxObjectAge/,
    );
    expect(() => new S3Archive({ bucket: 'bucket', whenFull: 'ignore' as never })).toThrow(
      /whenFull/,
    );
    expect(() => new S3Archive({ bucket: 'bucket', types: [] })).toThrow(/non-empty/);
    expect(() => new S3Archive({ bucket: 'bucket', spaces: ['bad space'] })).toThrow(/spaces/);
  });
});

test('examples/archive-replay.js runs against an S3 server and shows refuse, enrich, archive, replay', async () => {
  const bucket = await newBucket();
  const { execFile } = await import('node:child_process');
  const output = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      [require.resolve('../../examples/archive-replay.js')],
      {
        env: {
          ...process.env,
          S3_ENDPOINT: moto.endpoint,
          BUCKET: bucket,
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
        },
        timeout: 30_000,
      },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  expect(output).toContain('live audit got o-1 (tenant acme)');
  expect(output).toContain('live refused o-2: an order names its tenant (400)');
  expect(output).toContain('archived: 2');
  expect(output).toContain('replay audit got o-1 (tenant acme)');
  expect(output).toContain('replay audit got o-3 (tenant globex)');
  expect(output).toContain('replayed: { read: 2, emitted: 2, refused: 0 }');
});
