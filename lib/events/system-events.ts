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
