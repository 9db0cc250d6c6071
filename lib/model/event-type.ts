import { isSystemEventType } from './system-events';
import { Checks, type Metadata } from './checks';

/** An event type: the name events are routed by, optionally guarded by an authorizer function. */
export interface EventTypeRecord {
  readonly space: string;
  /** The event type's name, e.g. `user.created`. */
  readonly name: string;
  /** The function that authorizes events of this type before delivery. */
  readonly authorizerId?: string;
  readonly metadata?: Metadata;
}

/** Arguments of `createEventType` and `updateEventType`. */
export interface EventTypeInput {
  /** @default the gateway's `space` option */
  space?: string;
  name: string;
  authorizerId?: string;
  metadata?: Record<string, string>;
}

/** The event type every plain HTTP request becomes; subscriptions may name it without creating it. */
export const HTTP_REQUEST_EVENT = 'http.request';

const checks: Checks = new Checks('eventType');

/** Validates input into a stored record. Throws ValidationError. */
export function toEventTypeRecord(input: EventTypeInput, space: string): EventTypeRecord {
  checks.object(input, 'the event type');
  checks.onlyFields(input as never, ['space', 'name', 'authorizerId', 'metadata'], 'an event type');
  const record: { -readonly [K in keyof EventTypeRecord]: EventTypeRecord[K] } = {
    space: checks.space(space),
    name: checks.identifier(input.name, 'name'),
  };
  if (input.authorizerId !== undefined) {
    record.authorizerId = checks.identifier(input.authorizerId, 'authorizerId');
  }
  const metadata = checks.metadata(input.metadata);
  if (metadata) record.metadata = metadata;
  return record;
}

/** True for the event types that exist in every space without being created. */
export function isImplicitEventType(name: string): boolean {
  return name === HTTP_REQUEST_EVENT || isSystemEventType(name);
}

/**
 * True for a wildcard event type of a subscription: `user.*` (every type that starts with
 * `user.`) or `*` (every type). Wildcards never match system (`eventgateway.*`) types.
 */
export function isWildcardType(name: string): boolean {
  return name === '*' || name.endsWith('.*');
}

/**
 * The wildcard types that may match an event type, most specific first: `a.b.c` gives `a.b.*`,
 * `a.*`, `*`. None for system types: they are matched only when named.
 */
export function wildcardsOf(eventType: string): string[] {
  if (isSystemEventType(eventType)) return [];
  const out: string[] = [];
  for (let i = eventType.lastIndexOf('.'); i > 0; i = eventType.lastIndexOf('.', i - 1)) {
    out.push(eventType.slice(0, i) + '.*');
  }
  out.push('*');
  return out;
}
