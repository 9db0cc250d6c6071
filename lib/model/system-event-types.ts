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

/** The prefix of the event types only the gateway may emit. */
export const RESERVED_PREFIX = 'eventgateway.';

const SYSTEM_TYPES: ReadonlySet<string> = new Set(Object.values(SYSTEM_EVENT_TYPES));

/** True for the event types the gateway itself emits. */
export function isSystemEventType(type: string): boolean {
  return SYSTEM_TYPES.has(type);
}
