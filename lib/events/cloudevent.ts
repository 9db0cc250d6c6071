import { ValidationError } from '../errors';

/**
 * A CloudEvents 1.0 event, the gateway's native format. Extension attributes (lower-case
 * letters and digits) sit beside the context attributes.
 */
export interface CloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  readonly subject?: string;
  readonly time?: string;
  readonly data?: unknown;
  /** Binary data, base64-encoded (exclusive with `data`). */
  readonly data_base64?: string;
  /** Extension attributes. */
  readonly [extension: string]: unknown;
}

const EXTENSION_NAME = /^[a-z0-9]+$/;
// RFC 3339 date-time, as the spec requires for `time`.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** `CloudEvent doesn't validate: <detail>`, Event Gateway 0.9's message. */
export function invalidEvent(detail: string): ValidationError {
  return new ValidationError(`CloudEvent doesn't validate: ${detail}`, { resource: 'event' });
}

function requiredString(event: Record<string, unknown>, name: string): string {
  const value = event[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidEvent(`"${name}" is required and must be a non-empty string.`);
  }
  return value;
}

function optionalString(event: Record<string, unknown>, name: string): void {
  const value = event[name];
  if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
    throw invalidEvent(`"${name}" must be a non-empty string when present.`);
  }
}

/**
 * Validates a CloudEvent (1.0, or 0.1 which is converted to 1.0) strictly: required attributes
 * are never invented. Returns a 1.0 event; throws ValidationError.
 */
export function parseCloudEvent(input: unknown): CloudEvent {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidEvent('an event must be a JSON object.');
  }
  const event = input as Record<string, unknown>;
  if (event.specversion === undefined && event.cloudEventsVersion !== undefined) {
    return parseCloudEvent(fromVersion01(event));
  }
  if (event.specversion !== '1.0') {
    throw invalidEvent(
      `"specversion" must be "1.0" (or "cloudEventsVersion" "0.1"), got ${JSON.stringify(event.specversion)}.`,
    );
  }
  requiredString(event, 'id');
  requiredString(event, 'source');
  requiredString(event, 'type');
  // One pass over the attributes: optional ones checked by name, the rest are extensions.
  for (const name in event) {
    if (!Object.hasOwn(event, name)) continue;
    const value = event[name];
    if (value === undefined) continue;
    switch (name) {
      case 'specversion':
      case 'id':
      case 'source':
      case 'type':
      case 'data':
        break;
      case 'datacontenttype':
      case 'dataschema':
      case 'subject':
        optionalString(event, name);
        break;
      case 'time':
        optionalString(event, name);
        if (!RFC3339.test(value as string)) {
          throw invalidEvent(`"time" must be an RFC 3339 timestamp, got ${JSON.stringify(value)}.`);
        }
        break;
      case 'data_base64':
        if (event.data !== undefined) throw invalidEvent('"data" and "data_base64" are exclusive.');
        if (typeof value !== 'string' || !BASE64.test(value)) {
          throw invalidEvent('"data_base64" must be a base64 string.');
        }
        break;
      default:
        if (!EXTENSION_NAME.test(name)) {
          throw invalidEvent(
            `extension attribute "${name}" must consist of lower-case letters and digits.`,
          );
        }
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
          throw invalidEvent(
            `extension attribute "${name}" must be a string, a number or a boolean.`,
          );
        }
    }
  }
  return event as CloudEvent;
}

/** Maps a CloudEvents 0.1 event (Event Gateway 0.9's format) onto 1.0 attributes. */
function fromVersion01(event: Record<string, unknown>): Record<string, unknown> {
  if (event.cloudEventsVersion !== '0.1') {
    throw invalidEvent(
      `"cloudEventsVersion" must be "0.1", got ${JSON.stringify(event.cloudEventsVersion)}.`,
    );
  }
  const out: Record<string, unknown> = {
    specversion: '1.0',
    id: event.eventID,
    source: event.source,
    type: event.eventType,
  };
  if (event.eventTime !== undefined) out.time = event.eventTime;
  if (event.schemaURL !== undefined) out.dataschema = event.schemaURL;
  if (event.contentType !== undefined) out.datacontenttype = event.contentType;
  if (event.eventTypeVersion !== undefined) out.eventtypeversion = event.eventTypeVersion;
  if (event.data !== undefined) out.data = event.data;
  const extensions = event.extensions;
  if (extensions !== undefined) {
    if (typeof extensions !== 'object' || extensions === null || Array.isArray(extensions)) {
      throw invalidEvent('"extensions" must be an object.');
    }
    for (const [name, value] of Object.entries(extensions)) {
      // 0.1 allowed nested extension values; 1.0 does not, so they travel as JSON text.
      out[name.toLowerCase()] =
        typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
    }
  }
  for (const required of ['eventID', 'source', 'eventType']) {
    if (typeof event[required] !== 'string' || event[required] === '') {
      throw invalidEvent(`"${required}" is required and must be a non-empty string.`);
    }
  }
  return out;
}
