import os from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { EventRefusedError, KafkaArchive, type Gateway, type KafkaArchiveOptions } from '../../lib';
import { InlineSender, ThreadSender } from '../../lib/sinks/kafka-sender';
import { startKafkaMock } from '../../scripts/servers';
import { archiveStats, event, recordingGateway, settled, until } from './archive-fixture';

// librdkafka's mock cluster (through kcat): in memory, auto-created topics of 4 partitions. No
// real Kafka broker installs here.
type Mock = Awaited<ReturnType<typeof startKafkaMock>>;

let mock: Mock;
let topicCount = 0;
const newTopic = () => `archive-${++topicCount}-${Date.now()}`;

beforeEach(async () => {
  mock = await startKafkaMock();
});
afterEach(async () => {
  await mock?.stop();
});

/** Every record of a topic, read with a plain kafkajs consumer. */
async function readTopic(brokers: string[], topic: string, expected: number) {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `check-${Math.random()}`, maxWaitTimeInMs: 100 });
  const records: {
    key: string;
    value: Record<string, unknown>;
    headers: Record<string, string>;
    partition: number;
  }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      records.push({
        key: message.key!.toString(),
        value: JSON.parse(message.value!.toString()) as Record<string, unknown>,
        headers: Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
        ),
        partition,
      });
    },
  });
  await until(() => records.length >= expected, 15_000, `${expected} records`);
  await new Promise((r) => setTimeout(r, 300)); // and nothing more
  await consumer.disconnect();
  return records;
}

/** An archive on the mock that fails fast once its brokers are gone (short timeouts, no retries). */
function quickToFail(topic: string, options: Partial<KafkaArchiveOptions>): KafkaArchive {
  return new KafkaArchive({
    client: {
      brokers: mock.brokers,
      connectionTimeout: 300,
      requestTimeout: 1000,
      retry: { retries: 0 },
    },
    topic,
    writeTimeout: 2000,
    retry: { initialDelay: 50, maxDelay: 200 },
    ...options,
  });
}

describe('KafkaArchive (librdkafka mock cluster)', () => {
  let gateways: Gateway[] = [];
  afterEach(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    gateways = [];
  });

  test('each accepted event is one record keyed by its ID, readable by a plain consumer; refused ones are not archived', async () => {
    const topic = newTopic();
    const archive = new KafkaArchive({
      client: { brokers: mock.brokers },
      topic,
      types: ['user.*'],
    });
    const { gateway } = await recordingGateway({
      plugins: [
        {
          name: 'guard',
          onEvent: (e) => (e.id.endsWith('-refused') ? { refuse: 'no' } : undefined),
        },
        archive,
      ],
    });
    gateways.push(gateway);
    for (let i = 0; i < 30; i++) {
      await gateway.emit(event(`k-${i}`));
      await gateway.emit(event(`o-${i}`, 'order.placed')); // filtered out by type
      await expect(gateway.emit(event(`k-${i}-refused`))).rejects.toBeInstanceOf(EventRefusedError);
    }
    await until(() => archiveStats(gateway, 'kafka-archive').archived === 30, 10_000, 'archived');
    const records = await readTopic(mock.brokers, topic, 30);
    expect(records.map((r) => r.key).sort()).toEqual(
      Array.from({ length: 30 }, (_, i) => `k-${i}`).sort(),
    );
    for (const record of records) {
      expect(record.value).toMatchObject({
        specversion: '1.0',
        id: record.key,
        type: 'user.created',
        source: '/archive-test',
      });
      expect(record.headers).toMatchObject({
        'content-type': 'application/cloudevents+json; charset=UTF-8',
        'eventgateway-accepted': expect.stringMatching(
          /^\{"space":"default","method":"POST","path":"\/","seq":\d+\}$/,
        ),
      });
    }
    expect(new Set(records.map((r) => r.partition)).size).toBeGreaterThan(1); // keyed: spread
  });

  test('brokers down: events wait within the bound, then are refused; brokers back, the backlog is written', async () => {
    const topic = newTopic();
    let brokers = mock.brokers;
    const archive = new KafkaArchive({
      client: {
        brokers: () => brokers,
        connectionTimeout: 300,
        requestTimeout: 1000,
        retry: { retries: 0 },
      },
      topic,
      maxBufferBytes: 3000,
      writeTimeout: 2000,
      retry: { initialDelay: 50, maxDelay: 200 },
    });
    const { gateway, received } = await recordingGateway({ plugins: [archive] });
    gateways.push(gateway);
    const errors: string[] = [];
    gateway.on('gateway.error', (error) => errors.push(error.message));
    await gateway.emit(event('first'));
    await until(
      () => archiveStats(gateway, 'kafka-archive').archived === 1,
      10_000,
      'the first record',
    );
    await mock.stop(); // every broker down at once
    const accepted: string[] = ['first'];
    let refusal: unknown;
    for (let i = 0; i < 200 && !refusal; i++) {
      try {
        await gateway.emit(event(`w-${i}`));
        accepted.push(`w-${i}`);
      } catch (error) {
        refusal = error;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(refusal).toBeInstanceOf(EventRefusedError);
    expect((refusal as EventRefusedError).status).toBe(503);
    expect(archiveStats(gateway, 'kafka-archive').writeFailures).toBeGreaterThan(0);
    expect(errors.some((m) => m.includes('The archive "kafka-archive" failed to write'))).toBe(
      true,
    );
    await settled(gateway);
    expect(received.map((e) => e.id)).toEqual(accepted);
    // A new cluster (the mock keeps nothing across a restart): the backlog goes there.
    mock = await startKafkaMock();
    brokers = mock.brokers;
    await until(
      () => archiveStats(gateway, 'kafka-archive').bufferedEvents === 0,
      20_000,
      'the backlog',
    );
    const records = await readTopic(mock.brokers, topic, accepted.length - 1);
    expect(records.map((r) => r.key).sort()).toEqual(accepted.slice(1).sort());
  });

  test('by default the producer runs in a thread with more than two cores, in the host thread with two', async () => {
    const senders: unknown[] = [];
    for (const cores of [2, 8]) {
      const spy = jest.spyOn(os, 'availableParallelism').mockReturnValue(cores);
      const archive = new KafkaArchive({ client: { brokers: mock.brokers }, topic: newTopic() });
      const { gateway } = await recordingGateway({ plugins: [archive] });
      await gateway.emit(event(`cores-${cores}`));
      await until(() => archiveStats(gateway, 'kafka-archive').archived === 1, 10_000, 'a record');
      spy.mockRestore();
      senders.push((archive as unknown as { sender: unknown }).sender);
      await gateway.close();
    }
    expect(senders[0]).toBeInstanceOf(InlineSender);
    expect(senders[1]).toBeInstanceOf(ThreadSender);
  });

  test('the producer thread: brokers down -> failures reported, then refusals; close reports what is lost', async () => {
    const topic = newTopic();
    // A thread: the default only with more than two cores.
    const archive = quickToFail(topic, { producerThread: true, maxBufferBytes: 2000 });
    const { gateway } = await recordingGateway({ plugins: [archive], drainTimeout: 500 });
    const errors: string[] = [];
    gateway.on('gateway.error', (error) => errors.push(error.message));
    await gateway.emit(event('through-the-thread'));
    await until(
      () => archiveStats(gateway, 'kafka-archive').archived === 1,
      10_000,
      'the first record',
    );
    await mock.stop();
    let refused = 0;
    for (let i = 0; i < 100 && refused === 0; i++) {
      await gateway.emit(event(`t-${i}`)).catch((error: unknown) => {
        if (error instanceof EventRefusedError) refused++;
      });
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(refused).toBe(1);
    await until(
      () => archiveStats(gateway, 'kafka-archive').writeFailures > 0,
      10_000,
      'a failure',
    );
    const waiting = archiveStats(gateway, 'kafka-archive').bufferedEvents;
    await gateway.close();
    expect(archiveStats(gateway, 'kafka-archive').lost).toBe(waiting);
    expect(
      errors.some((m) => m.includes(`could not write ${waiting} events before the gateway closed`)),
    ).toBe(true);
  });

  test.each([
    ['in a worker thread', true],
    ['in the host thread', false],
  ])(
    'close cut short by the drain (producer %s): every event is in the topic or in an archive.dropped report before close() resolves',
    async (_mode, producerThread) => {
      const topic = newTopic();
      const archive = quickToFail(topic, { producerThread });
      const { gateway } = await recordingGateway({ plugins: [archive], drainTimeout: 300 }, [
        'default',
        'other',
      ]);
      const reports: {
        space: string;
        dropped: number;
        eventIds: readonly string[];
        reason: string;
      }[] = [];
      gateway.on('archive.dropped', (report) => reports.push(report));
      gateway.on('gateway.error', () => undefined); // expected: failures while the brokers are down
      const written: string[] = [];
      for (let i = 0; i < 40; i++) {
        await gateway.emit(event(`w-${i}`));
        written.push(`w-${i}`);
      }
      await until(() => archiveStats(gateway, 'kafka-archive').archived === 40, 10_000, 'written');
      const inTopic = (await readTopic(mock.brokers, topic, 40)).map((r) => r.key);
      // Every broker gone: what comes next cannot be written before the drain ends.
      await mock.stop();
      const cut: Record<string, string[]> = { default: [], other: [] };
      for (let i = 0; i < 30; i++) {
        const space = i % 3 ? 'default' : 'other';
        await gateway.emit(event(`c-${i}`), { space });
        cut[space].push(`c-${i}`);
      }
      await until(
        () => archiveStats(gateway, 'kafka-archive').writeFailures > 0,
        10_000,
        'a failed write',
      );
      await gateway.close();
      // Reported by the time close() resolves, per space, with every ID (fewer than 100 here).
      const bySpace = (space: string) => reports.filter((r) => r.space === space);
      for (const space of ['default', 'other']) {
        expect(bySpace(space).reduce((sum, r) => sum + r.dropped, 0)).toBe(cut[space].length);
        expect(
          bySpace(space)
            .flatMap((r) => r.eventIds)
            .sort(),
        ).toEqual(cut[space].sort());
      }
      expect(reports.every((r) => /closed before they were written/.test(r.reason))).toBe(true);
      expect(archiveStats(gateway, 'kafka-archive').lost).toBe(30);
      expect(inTopic.sort()).toEqual(written.sort());
    },
  );

  test('an event accepted once the archive has closed is reported, not left in a batch no timer seals', async () => {
    const archive = new KafkaArchive({
      client: { brokers: mock.brokers },
      topic: newTopic(),
      producerThread: true,
      maxBatchAge: 60_000, // its age timer is pending when close() begins
    });
    const { gateway } = await recordingGateway({ plugins: [archive] });
    const reports: { space: string; dropped: number; eventIds: readonly string[] }[] = [];
    gateway.on('archive.dropped', (report) => reports.push(report));
    gateway.on('gateway.error', () => undefined);
    await gateway.emit(event('before'));
    await gateway.close();
    expect(archiveStats(gateway, 'kafka-archive').archived).toBe(1);
    // A late `accepted` hook (the plugin contract does not forbid one): nothing may swallow it.
    archive.accepted(event('late'), {
      space: 'default',
      method: 'POST',
      path: '/',
      via: 'emit',
      deliveries: 1,
    });
    await until(() => reports.length > 0, 3000, 'the archive.dropped report');
    expect(reports).toMatchObject([{ space: 'default', dropped: 1, eventIds: ['late'] }]);
    expect(archiveStats(gateway, 'kafka-archive')).toMatchObject({ lost: 1, bufferedEvents: 0 });
  });

  test('a replay of a time window delivers the same events to a fresh gateway, in the same order', async () => {
    const topic = newTopic();
    const archive = new KafkaArchive({ client: { brokers: mock.brokers }, topic, maxBatchAge: 5 });
    const { gateway } = await recordingGateway({ plugins: [archive] });
    gateways.push(gateway);
    for (let i = 0; i < 20; i++) await gateway.emit(event(`before-${i}`));
    await new Promise((r) => setTimeout(r, 20));
    const from = Date.now();
    const inWindow: string[] = [];
    for (let i = 0; i < 200; i++) {
      const id = `in-${i}`;
      await gateway.emit(event(id, i % 3 ? 'user.created' : 'order.placed'));
      inWindow.push(id);
    }
    await new Promise((r) => setTimeout(r, 20));
    const to = Date.now();
    for (let i = 0; i < 20; i++) await gateway.emit(event(`after-${i}`));
    await until(() => archiveStats(gateway, 'kafka-archive').archived === 240, 10_000, 'archived');

    const fresh = await recordingGateway({
      plugins: [new KafkaArchive({ client: { brokers: mock.brokers }, topic, name: 'again' })],
    });
    gateways.push(fresh.gateway);
    const totals = await fresh.gateway.replay({ source: archive, from, to });
    expect(totals).toMatchObject({ read: 200, emitted: 200, refused: 0, deliveries: 200 });
    await settled(fresh.gateway);
    expect(fresh.received.map((e) => e.id)).toEqual(inWindow);
    expect(archiveStats(fresh.gateway, 'again').archived).toBe(0); // replays are not archived again
    const orders = await fresh.gateway.replay({
      source: archive,
      from,
      to,
      type: 'order.placed',
      dryRun: true,
    });
    expect(orders).toMatchObject({ read: 67, emitted: 67, deliveries: 67 });
  });

  test('replay from brokers that are gone fails with ArchiveUnavailableError', async () => {
    const { gateway } = await recordingGateway();
    gateways.push(gateway);
    const brokers = mock.brokers;
    await mock.stop();
    const archive = new KafkaArchive({
      client: { brokers, connectionTimeout: 300, retry: { retries: 0 } },
      topic: 'gone',
    });
    await expect(gateway.replay({ source: archive, from: 0 })).rejects.toMatchObject({
      code: 'ARCHIVE_UNAVAILABLE',
    });
  });
});
