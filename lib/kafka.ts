/**
 * `event-gateway/kafka`: the Kafka journal and the Kafka event archive. Need the optional peer
 * `kafkajs`.
 *
 * @example
 * ```ts
 * import { createGateway, MemoryStore } from 'event-gateway';
 * import { KafkaJournal } from 'event-gateway/kafka';
 * const journal = new KafkaJournal({ client: { brokers: ['127.0.0.1:9092'] } });
 * const gateway = createGateway(new MemoryStore(), { journal });
 * ```
 *
 * @packageDocumentation
 */
export { KafkaJournal } from './journal/kafka-journal';
export type { KafkaJournalOptions } from './journal/kafka-journal';
export { KafkaArchive } from './sinks/kafka-archive';
export type { KafkaArchiveOptions } from './sinks/kafka-archive';
