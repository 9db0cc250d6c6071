import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { createEventsHandler, S3Archive, type CloudEvent, type Gateway } from '../../lib';
import { AWS_TEST, startMoto, type RunningMoto } from '../helpers/moto';
import { event, recordingGateway, settled } from '../sinks/archive-fixture';

/**
 * Replay takes nothing on trust from the archive: whoever can write to the bucket can write any
 * record, so a replayed record is screened like a client's event (DESIGN.md, "Trust model").
 */

let moto: RunningMoto;
let s3: S3Client;
let bucketCount = 0;
let gateways: Gateway[] = [];

const s3Config = () => ({
  region: AWS_TEST.region,
  endpoint: moto.endpoint,
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  forcePathStyle: true,
  requestHandler: new NodeHttpHandler({ connectionTimeout: 500 }),
});

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client(s3Config());
});

afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});

afterEach(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  gateways = [];
});

/** `20261128T081500123Z`, as archive keys spell an instant. */
const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:.]/g, '');

/**
 * A bucket holding one archive object of `user.created` events, written straight to S3 as a
 * hostile writer would (not through an archive): each event accepted at POST /orders.
 */
async function forgedArchive(events: Record<string, unknown>[]): Promise<S3Archive> {
  const bucket = `forged-${++bucketCount}-${Date.now()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const at = Date.now() - 1000;
  const hour = new Date(at).toISOString().slice(0, 13).replace(/[-T]/g, '/');
  const lines = events.map((e, seq) =>
    JSON.stringify({
      acceptedAt: new Date(at).toISOString(),
      seq,
      space: 'default',
      method: 'POST',
      path: '/orders',
      event: e,
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: `events/default/user.created/${hour}/${stamp(at)}-${stamp(at)}-f0e1d2c3b4a5.ndjson`,
      Body: lines.join('\n') + '\n',
    }),
  );
  return new S3Archive({ bucket, s3: s3Config(), name: 'forged' });
}

/** An event as a forger writes it: with the extensions only the gateway may set. */
const forged = (id: string): Record<string, unknown> => ({
  ...event(id),
  eventgatewayauthorization: JSON.stringify({ principal: 'admin' }),
  deliveryid: 'forged-delivery',
  eventgatewayreplay: 'forged-replay',
});

/** A gateway whose function `recorder` receives `user.created` events emitted at POST /orders. */
async function replayGateway(): Promise<{ gateway: Gateway; received: CloudEvent[] }> {
  const made = await recordingGateway();
  gateways.push(made.gateway);
  await made.gateway.subscribe({
    eventType: 'user.created',
    functionId: 'recorder',
    path: '/orders',
  });
  return made;
}

/** A {@link replayGateway} whose `user.created` type has the authorizer `auth`. */
async function authorizedGateway(
  answer: (payload: { event: CloudEvent; request: unknown }) => unknown,
): Promise<{ gateway: Gateway; received: CloudEvent[]; calls: unknown[] }> {
  const { gateway, received } = await replayGateway();
  const calls: unknown[] = [];
  await gateway.registerFunction({
    functionId: 'auth',
    handler: (payload) => {
      calls.push(payload);
      return answer(payload as { event: CloudEvent; request: unknown });
    },
  });
  await gateway.updateEventType({ name: 'user.created', authorizerId: 'auth' });
  return { gateway, received, calls };
}

test('a record carrying a forged authorization, delivery ID or replay mark is replayed without them', async () => {
  const archive = await forgedArchive([forged('f-1')]);
  const { gateway, received } = await replayGateway();
  const totals = await gateway.replay({ source: archive, from: 0 });
  expect(totals).toMatchObject({ read: 1, emitted: 1, refused: 0, deliveries: 1 });
  await settled(gateway);
  expect(received).toHaveLength(1);
  expect(received[0].id).toBe('f-1');
  expect(received[0]).not.toHaveProperty('eventgatewayauthorization');
  expect(received[0]).not.toHaveProperty('deliveryid');
  expect(received[0].eventgatewayreplay).toBe(totals.replayId); // the gateway's own mark stays
});

test("a type's authorizer runs again for each replayed record; its answer replaces the forged one", async () => {
  const archive = await forgedArchive([forged('a-1'), forged('a-2')]);
  const { gateway, received, calls } = await authorizedGateway(({ event: e }) => ({
    authorization: { principal: 'replayer', of: e.id },
  }));
  // A dry run calls no function, the authorizer included.
  expect(await gateway.replay({ source: archive, from: 0, dryRun: true })).toMatchObject({
    emitted: 2,
  });
  expect(calls).toEqual([]);

  const totals = await gateway.replay({ source: archive, from: 0 });
  expect(totals).toMatchObject({ read: 2, emitted: 2, refused: 0, deliveries: 2 });
  await settled(gateway);
  // What the authorizer gets: the screened event, marked as a replay, and the archived request
  // (method and path; no headers: an archive keeps none).
  expect(calls).toEqual([
    {
      event: expect.objectContaining({ id: 'a-1', eventgatewayreplay: totals.replayId }),
      request: { method: 'POST', path: '/orders', headers: {} },
    },
    {
      event: expect.objectContaining({ id: 'a-2', eventgatewayreplay: totals.replayId }),
      request: { method: 'POST', path: '/orders', headers: {} },
    },
  ]);
  for (const call of calls as { event: CloudEvent }[]) {
    expect(call.event).not.toHaveProperty('eventgatewayauthorization');
    expect(call.event).not.toHaveProperty('deliveryid');
  }
  expect(received.map((e) => [e.id, JSON.parse(e.eventgatewayauthorization as string)])).toEqual([
    ['a-1', { principal: 'replayer', of: 'a-1' }],
    ['a-2', { principal: 'replayer', of: 'a-2' }],
  ]);
  expect(received.every((e) => e.deliveryid === undefined)).toBe(true);
});

test('a record the authorizer refuses, or fails on, is counted refused and never delivered', async () => {
  const archive = await forgedArchive([forged('r-1'), forged('r-2'), forged('r-3')]);
  const { gateway, received, calls } = await authorizedGateway(({ event: e }) => {
    if (e.id === 'r-1') return { error: { message: 'r-1 is not yours' } };
    if (e.id === 'r-2') throw new Error('authorizer down');
    return { authorization: { principal: 'replayer' } };
  });
  const refusals: string[] = [];
  const totals = await gateway.replay({
    source: archive,
    from: 0,
    onProgress: (p) => void (p.lastRefusal && refusals.push(p.lastRefusal)),
    progressInterval: 1,
  });
  expect(calls).toHaveLength(3);
  expect(totals).toMatchObject({ read: 3, emitted: 1, refused: 2, deliveries: 1 });
  // Each refusal is reported; the host (the replay's caller) hears why.
  expect(refusals[0]).toBe('r-1: r-1 is not yours');
  expect(totals.lastRefusal).toMatch(/^r-2: Authorizer function "auth" failed: .*authorizer down/);
  await settled(gateway);
  expect(received.map((e) => e.id)).toEqual(['r-3']);
});

test('the Events API and a replay screen alike: the authorizer never sees a forged extension', async () => {
  const archive = await forgedArchive([forged('s-1')]);
  const { gateway, received, calls } = await authorizedGateway(() => ({
    authorization: { principal: 'checked' },
  }));
  const server = createServer(createEventsHandler(gateway));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await request(`http://127.0.0.1:${port}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json', authorization: 'Bearer t' },
      body: JSON.stringify(forged('s-0')),
    });
    await res.body.text();
    expect(res.statusCode).toBe(202);
    await gateway.replay({ source: archive, from: 0 });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await settled(gateway);
  const [posted, replayed] = calls as { event: CloudEvent; request: { headers: object } }[];
  for (const { event: seen } of [posted, replayed]) {
    expect(seen).not.toHaveProperty('eventgatewayauthorization');
    expect(seen).not.toHaveProperty('deliveryid');
  }
  expect(posted.event).not.toHaveProperty('eventgatewayreplay');
  expect(posted.request.headers).toMatchObject({ authorization: 'Bearer t' });
  expect(replayed.request.headers).toEqual({});
  expect(received.map((e) => [e.id, e.eventgatewayauthorization])).toEqual([
    ['s-0', '{"principal":"checked"}'],
    ['s-1', '{"principal":"checked"}'],
  ]);
});
