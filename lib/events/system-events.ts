import { invalidEvent, type CloudEvent } from './cloudevent';

/** The prefix of the event types only the gateway may emit. */
const RESERVED_PREFIX = 'eventgateway.';

/** The system event types, emitted locally and routable to functions like any event type. */
export const SYSTEM_EVENT_TYPES = {
  received: 'eventgateway.event.received',
  invoking: 'eventgateway.function.invoking',
  invoked: 'eventgateway.function.invoked',
  invocationFailed: 'eventgateway.function.invocationFailed',
} as const;

/** One of {@link SYSTEM_EVENT_TYPES}. */
export type SystemEventType = (typeof SYSTEM_EVENT_TYPES)[keyof typeof SYSTEM_EVENT_TYPES];

const SYSTEM_TYPES: ReadonlySet<string> = new Set(Object.values(SYSTEM_EVENT_TYPES));

/** True for the event types the gateway itself emits. */
export function isSystemEventType(type: string): boolean {
  return SYSTEM_TYPES.has(type);
}

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
