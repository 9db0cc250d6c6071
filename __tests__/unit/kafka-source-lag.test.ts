// The Kafka source's lag read (an admin read every 5 s) that hangs: bounded by a timeout, after
// which the lag is unknown rather than stale, and no second read starts while it is in flight.
import type { KafkaAdmin, KafkaModule } from '../../lib/clients/kafka-client';
import type { Source, SourceContext } from '../../lib/sources/source';

/** An admin read held by the test: answered when it says, or never. */
type Pending = { resolve: (value: unknown) => void };

function fakeKafka() {
  const reads: Pending[] = [];
  const held = <T>(): Promise<T> =>
    new Promise<T>((resolve) => reads.push({ resolve: resolve as (value: unknown) => void }));
  const admin: KafkaAdmin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    fetchTopicOffsets: () => held(),
    fetchOffsets: async () => [{ topic: 'orders', partitions: [{ partition: 0, offset: '4' }] }],
  } as unknown as KafkaAdmin;
  const listeners = new Map<string, (event: unknown) => void>();
  const consumer = {
    events: { GROUP_JOIN: 'join', CRASH: 'crash' },
    on: (event: string, listener: (event: unknown) => void) => void listeners.set(event, listener),
    connect: async () => undefined,
    disconnect: async () => undefined,
    subscribe: async () => undefined,
    // Joined at once with partition 0; no batch is ever fetched (a paused source's case).
    run: async () => listeners.get('join')!({ payload: { memberAssignment: { orders: [0] } } }),
  };
  const module = {
    Kafka: class {
      admin = () => admin;
      consumer = () => consumer;
    },
    logLevel: { NOTHING: 0 },
  } as unknown as KafkaModule;
  return { module, reads };
}

let source: Source | undefined;

afterEach(async () => {
  await source?.close();
  source = undefined;
  jest.useRealTimers();
});

test('a lag read that never answers makes the lag unknown after its timeout, and no second read starts meanwhile', async () => {
  jest.useFakeTimers();
  const { module, reads } = fakeKafka();
  await jest.isolateModulesAsync(async () => {
    jest.doMock('../../lib/clients/kafka-client', () => ({ loadKafka: () => module }));
    const { kafkaSource } = await import('../../lib/sources/kafka-source');
    source = kafkaSource({
      record: {
        space: 'default',
        connectionId: 'orders',
        type: 'kafka',
        source: { brokers: '127.0.0.1:9', topic: 'orders' },
      },
      owned: () => undefined,
      fail: () => undefined,
      deliver: () => undefined,
    } as unknown as SourceContext);
  });
  await source!.start();
  await jest.advanceTimersByTimeAsync(0);
  expect(reads).toHaveLength(1);
  reads[0].resolve([{ partition: 0, high: '10', low: '0' }]);
  await jest.advanceTimersByTimeAsync(0);
  expect(source!.lag!()).toEqual({ lagMessages: 6 });
  // The next read (5 s on) never answers: the figure it would replace is stale from now on.
  await jest.advanceTimersByTimeAsync(5000);
  expect(reads).toHaveLength(2);
  await jest.advanceTimersByTimeAsync(5000);
  expect(source!.lag!()).toEqual({});
  // Still in flight: no read piles up behind it, however long it hangs.
  await jest.advanceTimersByTimeAsync(20_000);
  expect(reads).toHaveLength(2);
  expect(source!.lag!()).toEqual({});
  // Its late answer is not taken (it timed out); the read after it is.
  reads[1].resolve([{ partition: 0, high: '7', low: '0' }]);
  await jest.advanceTimersByTimeAsync(0);
  expect(source!.lag!()).toEqual({});
  await jest.advanceTimersByTimeAsync(5000);
  expect(reads).toHaveLength(3);
  reads[2].resolve([{ partition: 0, high: '12', low: '0' }]);
  await jest.advanceTimersByTimeAsync(0);
  expect(source!.lag!()).toEqual({ lagMessages: 8 });
});
