import { randomUUID } from 'node:crypto';
import { ArchiveUnavailableError } from '../errors';
import type { ArchiveQuery } from '../plugins/archive-source';
import type { KafkaBatchPayload, KafkaModule } from '../clients/kafka-client';
import { describeError } from '../model/describe-error';
import { earlier, type StoredRecord } from './archive-record';

type Kafka = InstanceType<KafkaModule['Kafka']>;
type KafkaRecord = KafkaBatchPayload['batch']['messages'][number];

/**
 * Headers an archived record carries besides the event (its value): its content type, and where
 * it was accepted with its sequence in one JSON header (`{"space","method","path","seq"}`): each
 * header costs kafkajs as much to encode as a small record.
 */
export const HEADERS = {
  contentType: 'content-type',
  accepted: 'eventgateway-accepted',
} as const;

/** Records held per partition before it is paused (and resumed at half). */
const HIGH_WATER = 2000;
/**
 * How much later than the window's end a record's timestamp may be before its partition is
 * deemed past the window (several gateways writing one partition do not write in exact order).
 */
const CLOCK_SKEW = 60_000;

interface PartitionRun {
  readonly partition: number;
  /** The high watermark when the replay began: records from there on are not read. */
  readonly end: bigint;
  queue: StoredRecord[];
  at: number;
  done: boolean;
  paused: boolean;
}

/**
 * Reads an archive topic's records of a window in acceptance order: each partition from its
 * earliest record to its end when the read began (or past the window), merged by acceptance
 * time and sequence. A consumer of its own (a fresh group, nothing committed) reads them;
 * partitions that get ahead are paused, so memory holds at most HIGH_WATER records each.
 */
export async function* readKafkaArchive(
  kafka: Kafka,
  topic: string,
  query: ArchiveQuery,
  settings: { consumer?: Record<string, unknown>; idleTimeout: number; name: string },
): AsyncGenerator<StoredRecord> {
  const unavailable = (what: string, error: unknown) =>
    new ArchiveUnavailableError(
      `The Kafka archive "${settings.name}" (topic "${topic}") ${what}: ${describeError(error)}`,
      { cause: error },
    );
  const admin = kafka.admin();
  let offsets: { partition: number; high: string; low: string }[];
  try {
    await admin.connect();
    offsets = await admin.fetchTopicOffsets(topic);
  } catch (error) {
    throw unavailable('could not be read', error);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const runs = new Map<number, PartitionRun>();
  for (const { partition, high, low } of offsets) {
    if (BigInt(high) > BigInt(low)) {
      runs.set(partition, {
        partition,
        end: BigInt(high),
        queue: [],
        at: 0,
        done: false,
        paused: false,
      });
    }
  }
  if (runs.size === 0) return;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const changed = () => {
    wake?.();
    wake = undefined;
  };
  const consumer = kafka.consumer({
    maxWaitTimeInMs: 100,
    ...settings.consumer,
    groupId: `event-gateway-replay-${randomUUID()}`,
  });
  consumer.on(consumer.events.CRASH, (event) => {
    failure = event.payload.error ?? new Error('the consumer crashed');
    changed();
  });
  const onAbort = () => changed();
  query.signal.addEventListener('abort', onAbort);
  try {
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          const run = runs.get(batch.partition);
          if (!run || run.done) return;
          for (const message of batch.messages) {
            const offset = BigInt(message.offset);
            if (offset >= run.end) {
              run.done = true;
              break;
            }
            const record = decodeMessage(
              message,
              `partition ${batch.partition}, offset ${message.offset}`,
            );
            if (record.acceptedAt >= query.to + CLOCK_SKEW) {
              run.done = true;
              break;
            }
            run.queue.push(record);
            if (offset === run.end - 1n) run.done = true;
          }
          if (!run.paused && !run.done && run.queue.length - run.at >= HIGH_WATER) {
            run.paused = true;
            consumer.pause([{ topic, partitions: [run.partition] }]);
          }
          changed();
        },
      });
    } catch (error) {
      throw unavailable('could not be read', error);
    }
    const all = [...runs.values()];
    for (;;) {
      // The earliest record is known once every partition has one waiting, or is done.
      while (all.some((run) => !run.done && run.at === run.queue.length)) {
        if (query.signal.aborted) return;
        if (failure) throw unavailable('failed while being read', failure);
        const arrived = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), settings.idleTimeout);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        if (!arrived && !query.signal.aborted) {
          throw unavailable(
            'sent nothing',
            new Error(`no record within ${settings.idleTimeout} ms while some were expected`),
          );
        }
      }
      let best: PartitionRun | undefined;
      for (const run of all) {
        if (
          run.at < run.queue.length &&
          (!best || earlier(run.queue[run.at], best.queue[best.at]))
        ) {
          best = run;
        }
      }
      if (!best) return;
      const record = best.queue[best.at++];
      if (best.at >= 1000 && best.at * 2 >= best.queue.length) {
        best.queue = best.queue.slice(best.at);
        best.at = 0;
      }
      if (best.paused && best.queue.length - best.at < HIGH_WATER / 2) {
        best.paused = false;
        consumer.resume([{ topic, partitions: [best.partition] }]);
      }
      if (record.acceptedAt >= query.from && record.acceptedAt < query.to) yield record;
    }
  } finally {
    query.signal.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(() => undefined);
  }
}

/** An archived record: the event as value, where and when it was accepted in headers. */
function decodeMessage(message: KafkaRecord, where: string): StoredRecord {
  const header = (name: string) => {
    const value = message.headers?.[name];
    return value === undefined ? undefined : value.toString();
  };
  let event: unknown;
  try {
    event = JSON.parse(message.value?.toString() ?? '');
  } catch (error) {
    throw new ArchiveUnavailableError(
      `The Kafka archive holds a record that is not JSON (${where}).`,
      {
        cause: error,
      },
    );
  }
  let accepted: { space?: unknown; method?: unknown; path?: unknown; seq?: unknown } | undefined;
  try {
    accepted = JSON.parse(header(HEADERS.accepted) ?? 'null') as typeof accepted;
  } catch {
    accepted = undefined;
  }
  if (typeof event !== 'object' || event === null || typeof accepted?.space !== 'string') {
    throw new ArchiveUnavailableError(
      `The Kafka archive holds a record that is not an archived event (${where}).`,
    );
  }
  return {
    space: accepted.space,
    method: typeof accepted.method === 'string' ? accepted.method : 'POST',
    path: typeof accepted.path === 'string' ? accepted.path : '/',
    acceptedAt: Number(message.timestamp),
    seq: typeof accepted.seq === 'number' ? accepted.seq : 0,
    event: event as Record<string, unknown>,
  };
}
