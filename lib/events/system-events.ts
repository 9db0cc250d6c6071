import { RESERVED_PREFIX, type SystemEventType } from '../model/system-event-types';
import { invalidEvent, type CloudEvent } from './cloudevent';

/**
 * Refuses an event that comes in from outside with a type only the gateway emits: a client must
 * not be able to forge `eventgateway.*` events and reach the functions subscribed to them.
 */
export function refuseReservedType(event: CloudEvent): void {
  if (event.type.startsWith(RESERVED_PREFIX)) {
    throw invalidEvent(
      `"type" ${JSON.stringify(event.type)} is reserved: only the gateway emits ${RESERVED_PREFIX}* events.`,
    );
  }
}

/** Wraps a system event's payload in a CloudEvent. */
export function systemCloudEvent(type: SystemEventType, data: unknown): CloudEvent {
  return {
    specversion: '1.0',
    id: crypto.randomUUID(),
    source: 'eventgateway',
    type,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}

/**
 * The data of a `connection.refused` system event: a message a connection pulled whose event the
 * gateway refused. It was counted, sent to the connection's dead-letter function if it has one,
 * and then acknowledged (a refused message is never retried).
 */
export interface ConnectionRefusedNotice {
  readonly space: string;
  readonly connectionId: string;
  /** The source type (`kafka`, `awssqs`, `schedule`...). */
  readonly sourceType: string;
  /** The message's ID in its source. */
  readonly messageId: string;
  /** Why it was refused (the error's message). */
  readonly reason: string;
  /** The error's code (`VALIDATION_FAILED`, `EVENT_REFUSED`, `HOP_LIMIT`...). */
  readonly code: string;
  /** The message's size in bytes. */
  readonly size: number;
  /** Its body (UTF-8 text, or base64 with `encoding: 'base64'`), cut to 64 KiB. */
  readonly body: string;
  readonly encoding: 'utf8' | 'base64';
  /** True when `body` was cut. */
  readonly truncated: boolean;
}
