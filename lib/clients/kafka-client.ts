import { requireOptionalPeer } from '../model/optional-peer';
import { gatewayKafkaClass } from './gateway-kafka';

/** What the Kafka journal and archive use of kafkajs 2 (an optional peer dependency, lazy). */
export interface KafkaModule {
  Kafka: new (config: Record<string, unknown>) => {
    producer(config: Record<string, unknown>): KafkaProducer;
    consumer(config: Record<string, unknown>): KafkaConsumer;
    admin(): KafkaAdmin;
  };
  logLevel: { NOTHING: number };
  Partitioners: { DefaultPartitioner: unknown };
}

export interface KafkaProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(request: { topic: string; acks: number; messages: KafkaMessage[] }): Promise<unknown>;
}

/** A record to produce. */
export interface KafkaMessage {
  value: string;
  key?: string;
  /** ms since the epoch, as text. */
  timestamp?: string;
  headers?: Record<string, string>;
}

export interface KafkaAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  fetchTopicOffsets(topic: string): Promise<{ partition: number; high: string; low: string }[]>;
  /** A group's committed offsets (`-1` for a partition it never committed), with their metadata. */
  fetchOffsets(request: { groupId: string; topics: string[] }): Promise<
    {
      topic: string;
      partitions: { partition: number; offset: string; metadata?: string | null }[];
    }[]
  >;
}

/** One fetched batch, as `eachBatch` receives it. */
export interface KafkaBatchPayload {
  batch: {
    partition: number;
    /** The partition's high watermark when the batch was fetched (the offset after its last). */
    highWatermark: string;
    messages: {
      offset: string;
      value: Buffer | null;
      timestamp: string;
      headers?: Record<string, Buffer | string | undefined>;
    }[];
  };
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

export interface KafkaConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topics: string[]; fromBeginning: boolean }): Promise<void>;
  run(config: {
    autoCommit: boolean;
    eachBatchAutoResolve: boolean;
    eachBatch(payload: KafkaBatchPayload): Promise<void>;
  }): Promise<void>;
  /** Commits offsets; `metadata` goes with each (Kafka keeps it beside the offset). */
  commitOffsets(
    offsets: { topic: string; partition: number; offset: string; metadata?: string }[],
  ): Promise<void>;
  pause(topics: { topic: string; partitions: number[] }[]): void;
  resume(topics: { topic: string; partitions: number[] }[]): void;
  on(
    event: string,
    listener: (event: {
      payload: { memberAssignment?: Record<string, number[]>; error?: unknown };
    }) => void,
  ): unknown;
  readonly events: { GROUP_JOIN: string; CRASH: string };
}

let gatewayKafka: KafkaModule['Kafka'] | undefined;

/**
 * kafkajs, loaded on first use: a PeerMissingError naming `feature` when it is not installed. Its `Kafka` is the
 * gateway's own (see {@link gatewayKafkaClass}): consumers made from it stop cleanly, and the host's
 * own `require('kafkajs')` is left exactly as it was.
 *
 * @param feature - what needs kafkajs, for the message when it is not installed
 * @default feature: `'The Kafka journal'`
 * @example
 * ```ts
 * const { Kafka } = loadKafka();
 * const consumer = new Kafka({ brokers: ['127.0.0.1:9092'] }).consumer({ groupId: 'g' });
 * ```
 */
export function loadKafka(feature = 'The Kafka journal'): KafkaModule {
  const kafkajs = requireOptionalPeer<KafkaModule>('kafkajs', { feature, install: 'kafkajs@2' });
  gatewayKafka ??= (gatewayKafkaClass() as KafkaModule['Kafka'] | undefined) ?? kafkajs.Kafka;
  return { ...kafkajs, Kafka: gatewayKafka };
}
