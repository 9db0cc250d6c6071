import { JournalUnavailableError } from '../errors';

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
}

/** One fetched batch, as `eachBatch` receives it. */
export interface KafkaBatchPayload {
  batch: {
    partition: number;
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
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
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

/** kafkajs's consumer runner, patched once (see {@link loadKafka}). */
interface Runner {
  running: boolean;
  fetch(nodeId: number): Promise<unknown[]>;
}

let patched = false;

/**
 * kafkajs, loaded on first use: a clear error when it is not installed. kafkajs 2.2.4 (its last
 * release) can spin forever once a consumer stops while its brokers change: the stopped runner's
 * `fetch` answers `[]` at once and the fetch manager, rebalancing its fetchers, starts new ones
 * that never wait on I/O (tulios/kafkajs#1384, #1387; the fix #1428 was never merged). Seen here
 * as a hung process at 95% CPU when brokers died. The patch makes a stopped runner's fetch fail,
 * not succeed empty: its fetchers end, and the consumer crashes out of the loop.
 */
export function loadKafka(
  missing: (error: unknown) => Error = (error) =>
    new JournalUnavailableError(
      'The Kafka journal needs the "kafkajs" package: npm install kafkajs@2',
      { cause: error },
    ),
): KafkaModule {
  let kafkajs: KafkaModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
    kafkajs = require('kafkajs') as KafkaModule;
  } catch (error) {
    throw missing(error);
  }
  if (!patched) {
    patched = true;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs internals
      const Runner = require('kafkajs/src/consumer/runner') as { prototype: Runner };
      const fetch = Runner.prototype.fetch;
      if (typeof fetch === 'function') {
        Runner.prototype.fetch = function (this: Runner, nodeId: number) {
          if (this.running) return fetch.call(this, nodeId);
          const stopped = Object.assign(new Error('The consumer stopped.'), { retriable: false });
          return Promise.reject(stopped);
        };
      }
    } catch {
      // Another layout: nothing to patch.
    }
  }
  return kafkajs;
}
