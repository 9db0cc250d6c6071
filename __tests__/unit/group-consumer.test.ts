import { GroupConsumer } from '../../lib/journal/group-consumer';
import type { KafkaConsumer } from '../../lib/clients/kafka-client';

/** A kafkajs consumer stand-in whose connect() waits until the test lets it go. */
function fakeConsumer() {
  const calls: string[] = [];
  let connected!: () => void;
  const consumer = {
    events: { GROUP_JOIN: 'join', CRASH: 'crash' },
    on: () => undefined,
    connect: () => {
      calls.push('connect');
      return new Promise<void>((resolve) => (connected = resolve));
    },
    subscribe: async () => void calls.push('subscribe'),
    run: async () => void calls.push('run'),
    disconnect: async () => void calls.push('disconnect'),
    commitOffsets: async () => undefined,
  } as unknown as KafkaConsumer;
  return { consumer, calls, connect: () => connected() };
}

test('stopped while it connects, a consumer is disconnected and never starts fetching', async () => {
  const fake = fakeConsumer();
  const group = new GroupConsumer({
    create: () => fake.consumer,
    topic: 't',
    onBatch: async () => undefined,
    onAssigned: () => undefined,
    onCrash: () => undefined,
  });
  const started = group.start();
  const stopped = group.stop();
  fake.connect();
  await started;
  await stopped;
  expect(fake.calls).toEqual(['connect', 'subscribe', 'disconnect']);
  // And nothing starts once stopped.
  await group.start();
  expect(fake.calls).toEqual(['connect', 'subscribe', 'disconnect']);
});
