/**
 * The class of events the gateway builds itself from a source message (a connection's
 * `eventType` wrapping a message's body), before they are accepted. The class is a promise about
 * two attributes, which {@link parseCloudEvent} then takes on trust instead of checking again:
 * - `time`, when present, was written by `Date#toISOString` for a year 0000-9999 (RFC 3339);
 * - `data`, when present, was made by `JSON.parse` from the message's bytes for this event alone,
 *   so nobody else holds it: accepting freezes it in place instead of copying it (its depth and
 *   numbers are still checked: the message is untrusted), and `data_base64` was written by
 *   `Buffer#toString('base64')`.
 * Everything else a message brings (its ID, its content type) is validated as for any event; a
 * structured CloudEvent message is never one of these (its attributes are the message's own).
 * Like the accepted class, the class marks them at no cost (a WeakSet costs a lookup per event).
 */
class MadeEvent {}

/**
 * A new, empty event to fill with what the gateway made (see {@link MadeEvent} for what that
 * promises), then to accept as any event.
 * @example
 * ```ts
 * const event = newMadeEvent();
 * Object.assign(event, { specversion: '1.0', id, source, type, data: JSON.parse(text) });
 * ```
 */
export function newMadeEvent(): Record<string, unknown> {
  return new MadeEvent() as Record<string, unknown>;
}

/** True for an event the gateway built from a message (see {@link newMadeEvent}). */
export function isMadeEvent(value: unknown): boolean {
  return value instanceof MadeEvent;
}
