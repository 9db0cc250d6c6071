import { invalidEvent, type CloudEvent } from './cloud-event';

/**
 * The system events, in one place: their CloudEvents types, their local names on `gateway.on`,
 * their payloads, and the rule that keeps their types the gateway's own.
 */

/** The system event types, emitted locally and routable to functions like any event type. */
export const SYSTEM_EVENT_TYPES = {
  received: 'eventgateway.event.received',
  invoking: 'eventgateway.function.invoking',
  invoked: 'eventgateway.function.invoked',
  invocationFailed: 'eventgateway.function.invocationFailed',
  /** An event refused at intake: looping (past `maxHops`), or by an intake plugin. */
  refused: 'eventgateway.event.refused',
  /** Events an archive dropped, by its `whenFull: 'drop'` policy. */
  archiveDropped: 'eventgateway.archive.dropped',
  /** A message a connection pulled whose event was refused (dead-lettered, then acknowledged). */
  connectionRefused: 'eventgateway.connection.refused',
} as const;

/** One of {@link SYSTEM_EVENT_TYPES}. */
export type SystemEventType = (typeof SYSTEM_EVENT_TYPES)[keyof typeof SYSTEM_EVENT_TYPES];

/** The system events, by short name (the keys of {@link SYSTEM_EVENT_TYPES}). */
export type SystemKind = keyof typeof SYSTEM_EVENT_TYPES;

/** Each system event's local name on `gateway.on(...)`. */
export const SYSTEM_EVENT_NAMES = {
  received: 'event.received',
  invoking: 'function.invoking',
  invoked: 'function.invoked',
  invocationFailed: 'function.invocationFailed',
  refused: 'event.refused',
  archiveDropped: 'archive.dropped',
  connectionRefused: 'connection.refused',
} as const satisfies Record<SystemKind, string>;

/** The prefix of the event types only the gateway may emit. */
export const RESERVED_PREFIX = 'eventgateway.';

const SYSTEM_TYPES: ReadonlySet<string> = new Set(Object.values(SYSTEM_EVENT_TYPES));

/** True for the event types the gateway itself emits. */
export function isSystemEventType(type: string): boolean {
  return SYSTEM_TYPES.has(type);
}

/** The `archive.dropped` system event's payload: events an archive let go of, by its policy. */
export interface ArchiveDroppedReport {
  /** The archive's plugin name. */
  readonly archive: string;
  readonly space: string;
  /** How many events were dropped since the last report. */
  readonly dropped: number;
  /** The IDs of the first of them (at most 100). */
  readonly eventIds: readonly string[];
  readonly reason: string;
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

/** The local names of system events on `gateway.on(...)`, and their payloads. */
export interface SystemEvents {
  'event.received': [{ space: string; event: CloudEvent; path: string; method: string }];
  /** An event refused at intake: looping (past `maxHops`), or by an intake plugin (`plugin`). */
  'event.refused': [
    { space: string; eventId: string; code: string; reason: string; plugin?: string },
  ];
  /** Events an archive dropped (its `whenFull: 'drop'` policy), reported at most once a second. */
  'archive.dropped': [ArchiveDroppedReport];
  /** A message a connection pulled was refused: dead-lettered, then acknowledged. */
  'connection.refused': [ConnectionRefusedNotice];
  'function.invoking': [{ space: string; functionId: string; event: CloudEvent; attempt: number }];
  'function.invoked': [
    {
      space: string;
      functionId: string;
      event: CloudEvent;
      result: unknown;
      attempts: number;
      durationMs: number;
    },
  ];
  'function.invocationFailed': [
    {
      space: string;
      functionId: string;
      event: CloudEvent;
      error: { message: string; code: string };
      reason: string;
      lastStatus?: number;
      attempts: number;
    },
  ];
}

/** The payload of the system event `kind`. */
export type SystemPayload<K extends SystemKind> = SystemEvents[(typeof SYSTEM_EVENT_NAMES)[K]][0];

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
