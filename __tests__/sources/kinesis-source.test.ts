// Kinesis connections against moto: two gateways share a stream's shards through leases in their
// one store, every record is delivered once, checkpoints live in the leases, and when one
// instance stops the other takes its shards over and resumes after their checkpoints.
import { CreateStreamCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createGateway, MemoryStore, type CloudEvent, type Gateway, type Store } from '../../lib';
import { KeyLayout } from '../../lib/model/key-layout';
import type { ConnectionRunner } from '../../lib/sources/connection-runner';
import { runnerFixture, until } from '../helpers/connection-runner';
import { AWS_TEST, startMoto, type RunningMoto } from '../helpers/moto';

jest.setTimeout(90_000);

const newRunner = runnerFixture();
let moto: RunningMoto;
let kinesis: KinesisClient;
const gateways: Gateway[] = [];

beforeAll(async () => {
  moto = await startMoto();
  kinesis = new KinesisClient({
    region: AWS_TEST.region,
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    requestHandler: new NodeHttpHandler(),
  });
});
afterAll(async () => {
  kinesis?.destroy();
  await moto?.stop();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

/** Puts records `{ n }` from `from`; resolves with their sequence numbers. */
async function put(stream: string, from: number, count: number): Promise<string[]> {
  const out = await kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: Array.from({ length: count }, (_, i) => ({
        PartitionKey: `key-${from + i}`,
        Data: Buffer.from(JSON.stringify({ n: from + i })),
      })),
    }),
  );
  return (out.Records ?? []).map((record) => record.SequenceNumber as string);
}

/**
 * Gateways on one store, each with a runner (instance IDs `names`), and a Kinesis connection on
 * `stream`; what each accepted is in `delivered`. An instance may get a store of its own (a proxy
 * of the same one) and be dead: what it reads is then never accepted.
 */
async function fleet(
  store: Store,
  stream: string,
  names: string[],
  leaseTtl: number,
  of: (instance: string) => { store?: Store; dead?: () => boolean } = () => ({}),
) {
  const delivered: { instance: string; n: number }[] = [];
  const runners: ConnectionRunner[] = [];
  const made: Gateway[] = [];
  for (const instance of names) {
    const gateway = createGateway(store, { resyncInterval: 0, connections: false });
    gateways.push(gateway);
    made.push(gateway);
    await gateway.ready();
    const own = of(instance);
    runners.push(
      newRunner(gateway, own.store ?? store, {
        instanceId: instance,
        leaseTtl,
        entry: async (event, { space }) => {
          if (own.dead?.()) return new Promise(() => undefined);
          delivered.push({ instance, n: (event.data as { n: number }).n });
          return gateway.emit(event as CloudEvent, { space });
        },
      }),
    );
  }
  await made[0]
    .createConnection({
      connectionId: stream,
      type: 'awskinesis',
      source: {
        streamName: stream,
        region: AWS_TEST.region,
        endpoint: moto.endpoint,
        awsAccessKeyId: AWS_TEST.awsAccessKeyId,
        awsSecretAccessKey: AWS_TEST.awsSecretAccessKey,
      },
      eventType: 'click',
    })
    .catch((error: { code?: string }) => {
      // Instances joining a fleet find the connection written.
      if (error.code !== 'ALREADY_EXISTS') throw error;
    });
  return { delivered, runners };
}

test("two instances on one store: every shard leased by one of them, each record delivered once, and a stopped instance's shards move with their checkpoints", async () => {
  const stream = 'clicks';
  await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 4 }));
  const store = new MemoryStore();
  const { delivered, runners } = await fleet(store, stream, ['a', 'b'], 900);
  await put(stream, 0, 40);
  await until(() => delivered.length >= 40, '40 records', 30_000);
  // Every shard has one owner, once the spreading has settled (a shard handed over from one
  // instance to the other is briefly owned by neither).
  const owned = () => runners.flatMap((r) => r.health()[0]?.owned ?? []);
  await until(() => owned().length === 4, 'every shard owned', 10_000);
  expect(new Set(owned()).size).toBe(4);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(delivered.map((d) => d.n).sort((x, y) => x - y)).toEqual(
    Array.from({ length: 40 }, (_, i) => i),
  );
  // The checkpoints are in the leases, beside the configuration.
  const { items } = await store.list(new KeyLayout().leasePrefix);
  expect(items.filter((kv) => JSON.parse(kv.value).state?.checkpoint)).toHaveLength(4);

  // One instance stops: the other takes its shards and resumes after their checkpoints.
  await runners[0].close();
  await put(stream, 40, 20);
  await until(() => delivered.length >= 60, '20 more records', 30_000);
  await until(() => runners[1].health()[0].owned.length === 4, 'b to own every shard', 10_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(delivered.map((d) => d.n).sort((x, y) => x - y)).toEqual(
    Array.from({ length: 60 }, (_, i) => i),
  );
  expect(delivered.slice(40).every((d) => d.instance === 'b')).toBe(true);
});

/** A store whose calls never answer once `frozen.now` is set: a process stopped for good. */
function freezable(store: Store, frozen: { now: boolean }): Store {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        frozen.now ? new Promise(() => undefined) : value.apply(target, args);
    },
  });
}

test("three instances: the shards spread across them, and a dead instance's shards move to the live ones within the lease time and a round", async () => {
  const stream = 'spread';
  const TTL = 900;
  await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 6 }));
  const store = new MemoryStore();
  const dead = { now: false };
  const { delivered, runners } = await fleet(store, stream, ['a', 'b', 'c'], TTL, (instance) =>
    // c is the one to die: its store calls and its acceptances then never answer.
    instance === 'c' ? { store: freezable(store, dead), dead: () => dead.now } : {},
  );
  const owned = () => runners.map((r) => r.health()[0]?.owned ?? []);
  // Spread: two shards each, every shard owned once.
  await until(
    () => owned().every((units) => units.length === 2),
    'two shards per instance',
    10 * TTL,
  );
  expect(new Set(owned().flat()).size).toBe(6);
  await put(stream, 0, 60);
  await until(() => new Set(delivered.map((d) => d.n)).size === 60, '60 records', 30_000);
  expect(new Set(delivered.map((d) => d.instance))).toEqual(new Set(['a', 'b', 'c']));

  // c dies (its store calls and its acceptances never answer): a and b take its shards.
  const died = Date.now();
  dead.now = true;
  await put(stream, 60, 60);
  await until(
    () => owned()[0].length === 3 && owned()[1].length === 3,
    "c's shards taken by a and b",
    10 * TTL,
  );
  const moved = Date.now() - died;
  await until(() => new Set(delivered.map((d) => d.n)).size === 120, '60 more records', 30_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const duplicates = delivered.length - 120;
  console.log(
    `kinesis: c's shards moved in ${moved} ms (lease ${TTL} ms); ${duplicates} duplicates`,
  );
  expect(new Set([...owned()[0], ...owned()[1]]).size).toBe(6);
  // Bounded: the lease time, a balancing round (a third of it), and a round's own time.
  expect(moved).toBeLessThan(TTL + TTL / 3 + 2 * TTL);
  dead.now = false;
});

test('a checkpoint write that fails (a store blip) does not stop the later ones', async () => {
  const stream = 'blip';
  await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
  const store = new MemoryStore();
  const blips: string[] = [];
  // The first checkpoint write of the connection fails once, as a store out of reach would.
  const blipping = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name !== 'put') return typeof value === 'function' ? value.bind(target) : value;
      return (key: string, text: string, options: unknown) => {
        if (blips.length === 0 && key.includes('/blip/') && text.includes('checkpoint')) {
          blips.push(key);
          return Promise.reject(new Error('the store is out of reach'));
        }
        return target.put(key, text, options as never);
      };
    },
  });
  const { delivered } = await fleet(store, stream, ['a'], 900, () => ({ store: blipping }));
  await put(stream, 0, 5);
  await until(() => delivered.length >= 5 && blips.length === 1, 'five records and a blip');
  const last = (await put(stream, 5, 5)).pop();
  const checkpoint = async () => {
    const { items } = await store.list(new KeyLayout().leasePrefix);
    const lease = items.find(
      (kv) => kv.key.endsWith('shardId-000000000000') && kv.key.includes('/blip/'),
    );
    return lease && JSON.parse(lease.value).state?.checkpoint;
  };
  await until(() => delivered.length >= 10, 'five more records');
  // The later acknowledgements move the checkpoint on: a new owner would not read them again.
  const deadline = Date.now() + 5000;
  while ((await checkpoint()) !== last && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(await checkpoint()).toBe(last);
});

test('an instance that joins gets its share: the others hand shards over with their checkpoints', async () => {
  const stream = 'join';
  const TTL = 900;
  await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 4 }));
  const store = new MemoryStore();
  const first = await fleet(store, stream, ['a'], TTL);
  await until(() => first.runners[0].health()[0]?.owned.length === 4, 'a to own every shard');
  await put(stream, 0, 40);
  await until(() => first.delivered.length >= 40, '40 records', 30_000);
  const second = await fleet(store, stream, ['b'], TTL);
  await until(
    () =>
      first.runners[0].health()[0].owned.length === 2 &&
      second.runners[0].health()[0]?.owned.length === 2,
    'two shards each',
    10 * TTL,
  );
  await put(stream, 40, 40);
  const all = () => [...first.delivered, ...second.delivered].map((d) => d.n);
  await until(() => new Set(all()).size === 80, '40 more records', 30_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  // Resumed after the checkpoints handed over: nothing read again from the start.
  expect(all().length).toBe(80);
  expect(second.delivered.length).toBeGreaterThan(0);
});
