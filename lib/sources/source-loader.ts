import type { SourceType } from '../model/connection';
import type { SourceFactory } from './source';

/**
 * The built-in source of a type, its module (and its client library, an optional peer) loaded
 * on first use: a gateway that runs no Kafka connection never loads kafkajs. Throws when the
 * type has no source in this version, or its library is not installed.
 * @example
 * ```ts
 * const factory = builtInSource('schedule'); // loads cron-parser
 * ```
 */
export function builtInSource(type: SourceType | string): SourceFactory {
  /* eslint-disable @typescript-eslint/no-require-imports -- lazy on purpose */
  switch (type) {
    case 'schedule':
      return (require('./schedule-source') as typeof import('./schedule-source')).scheduleSource;
    case 'kafka':
      return (require('./kafka-source') as typeof import('./kafka-source')).kafkaSource;
    case 'awssqs':
      return (require('./sqs-source') as typeof import('./sqs-source')).sqsSource;
    case 'awskinesis':
      return (require('./kinesis-source') as typeof import('./kinesis-source')).kinesisSource;
    case 'amqp':
      return (require('./amqp-source') as typeof import('./amqp-source')).amqpSource;
    default:
      throw new Error(`no "${type}" source in this version of event-gateway.`);
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
}
