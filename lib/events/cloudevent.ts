import { showValue } from '../model/describe-error';
import { HopLimitError } from '../errors';
import { MAX_NAME_LENGTH } from '../model/checks';
import { parseIsoTime } from '../model/iso-time';
import { invalidEvent, type CloudEvent } from '../model/cloud-event';
import { acceptData, freezeAccepted, freezeParsedData, newAcceptedEvent } from './event-data';
import { isMadeEvent } from './made-event';

const EXTENSION_NAME = /^[a-z0-9]+$/;
// Object.hasOwn is not optimized inside for-in (it costs as much as Object.keys' array).
const { hasOwnProperty } = Object.prototype;
/**
 * The extension counting how many times an event came through a gateway: 0 when it first
 * arrives, one more each time a function emits it (or an event carrying it) again.
 */
export const HOP_COUNT = 'hopcount';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** The longest string attribute other than `id` and `type` (source, subject, extensions...). */
export const MAX_ATTRIBUTE_LENGTH = 4096;
/** The default deepest nesting of `data`. */
const DEFAULT_MAX_DEPTH = 64;

/** The attributes CloudEvents 1.0 defines: no extension, and no 0.1 extension, may take them. */
const CONTEXT_ATTRIBUTES: ReadonlySet<string> = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'datacontenttype',
  'dataschema',
  'subject',
  'time',
  'data',
  'data_base64',
]);

/**
 * True for base64 (RFC 4648): padding, when present, only at the end and completing a group of
 * four; unpadded text must not end one character into a group (no byte fits there).
 */
export function isBase64(value: string): boolean {
  if (!BASE64.test(value)) return false;
  const padded = value.endsWith('=');
  return padded ? value.length % 4 === 0 : value.length % 4 !== 1;
}

/** True for an RFC 3339 timestamp that names a real instant (month 13 or hour 99 are not). */
export function isRfc3339(value: string): boolean {
  return parseIsoTime(value, { leapSecond: true, optionalSeconds: false }) !== undefined;
}

function requiredString(event: Record<string, unknown>, name: string, max: number): string {
  const value = event[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidEvent(`"${name}" is required and must be a non-empty string.`);
  }
  if (value.length > max) throw invalidEvent(`"${name}" must be at most ${max} characters long.`);
  return value;
}

function optionalString(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
    throw invalidEvent(`"${name}" must be a non-empty string when present.`);
  }
  if (typeof value === 'string' && value.length > MAX_ATTRIBUTE_LENGTH) {
    throw invalidEvent(`"${name}" must be at most ${MAX_ATTRIBUTE_LENGTH} characters long.`);
  }
}

/**
 * Validates a CloudEvent (1.0, or 0.1 which is converted to 1.0) strictly: required attributes
 * are never invented. Returns a frozen 1.0 copy (its `data` copied and frozen too, at most
 * `maxDepth` levels deep): what the caller changes afterwards never reaches a function. Throws
 * ValidationError. An event the gateway built from a message (`newMadeEvent`) keeps its parsed
 * data, frozen in place, and its `time` and `data_base64` are not checked again.
 */
export function parseCloudEvent(
  input: unknown,
  maxDepth = DEFAULT_MAX_DEPTH,
  maxHops?: number,
): CloudEvent {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidEvent('an event must be a JSON object.');
  }
  const event = input as Record<string, unknown>;
  if (event.specversion === undefined && event.cloudEventsVersion !== undefined) {
    return parseCloudEvent(fromVersion01(event), maxDepth, maxHops);
  }
  if (event.specversion !== '1.0') {
    throw invalidEvent(
      `"specversion" must be "1.0" (or "cloudEventsVersion" "0.1"), got ${showValue(event.specversion)}.`,
    );
  }
  // What the gateway made itself is not checked twice (see made-event.ts); the rest is.
  const made = isMadeEvent(event);
  const out = newAcceptedEvent();
  // The required attributes first, as validated (a getter read twice could answer differently),
  // always in the same order: one hidden class for every accepted event.
  out.specversion = '1.0';
  out.id = requiredString(event, 'id', MAX_NAME_LENGTH);
  out.source = requiredString(event, 'source', MAX_ATTRIBUTE_LENGTH);
  out.type = requiredString(event, 'type', MAX_NAME_LENGTH);
  // One pass over the other attributes: optional ones checked by name, the rest are extensions.
  // for-in and hasOwnProperty read the own keys (Object.keys' order) without an array of them.
  for (const name in event) {
    if (!hasOwnProperty.call(event, name)) continue;
    if (name === 'specversion' || name === 'id' || name === 'source' || name === 'type') continue;
    const value = event[name];
    if (value === undefined) continue;
    switch (name) {
      case 'data':
        out.data = copyData(value, maxDepth, made);
        continue;
      case 'datacontenttype':
      case 'dataschema':
      case 'subject':
        optionalString(value, name);
        break;
      case 'time':
        optionalString(value, name);
        if (!made && !isRfc3339(value as string)) {
          throw invalidEvent(`"time" must be an RFC 3339 timestamp, got ${JSON.stringify(value)}.`);
        }
        break;
      case 'data_base64':
        if (event.data !== undefined) throw invalidEvent('"data" and "data_base64" are exclusive.');
        if (typeof value !== 'string' || (!made && !isBase64(value))) {
          throw invalidEvent('"data_base64" must be a base64 string.');
        }
        break;
      case HOP_COUNT:
        if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
          throw invalidEvent(`extension attribute "${HOP_COUNT}" must be a whole number of hops.`);
        }
        if (maxHops !== undefined) continue; // set below, one hop more
        break;
      default:
        checkExtension(name, value);
    }
    out[name] = value;
  }
  if (maxHops !== undefined) {
    const incoming = event[HOP_COUNT];
    const hops = typeof incoming === 'number' ? incoming + 1 : 0;
    if (hops > maxHops) {
      throw new HopLimitError(
        `The event went through the gateway more than ${maxHops} times (${HOP_COUNT} ${incoming}): a loop between functions? It was refused.`,
        { resource: 'event', id: out.id as string },
      );
    }
    out[HOP_COUNT] = hops;
  }
  return freezeAccepted(out) as CloudEvent;
}

function jsonText(value: object, name: string): string {
  try {
    return JSON.stringify(value);
  } catch {
    throw invalidEvent(`extension "${name}" cannot be written as JSON.`);
  }
}

/** The event's data as accepted: copied, or frozen in place when the gateway just parsed it. */
function copyData(value: unknown, maxDepth: number, parsed: boolean): unknown {
  try {
    return parsed ? freezeParsedData(value, maxDepth) : acceptData(value, maxDepth);
  } catch (error) {
    throw invalidEvent((error as Error).message);
  }
}

/** Maps a CloudEvents 0.1 event (Event Gateway 0.9's format) onto 1.0 attributes. */
function fromVersion01(event: Record<string, unknown>): Record<string, unknown> {
  if (event.cloudEventsVersion !== '0.1') {
    throw invalidEvent(
      `"cloudEventsVersion" must be "0.1", got ${showValue(event.cloudEventsVersion)}.`,
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
      const attribute = name.toLowerCase();
      if (CONTEXT_ATTRIBUTES.has(attribute) || attribute in out) {
        throw invalidEvent(
          `extension "${name}" would overwrite the event's "${attribute}" attribute.`,
        );
      }
      // 0.1 allowed nested extension values; 1.0 does not, so they travel as JSON text.
      out[attribute] = typeof value === 'object' && value !== null ? jsonText(value, name) : value;
    }
  }
  for (const required of ['eventID', 'source', 'eventType']) {
    if (typeof event[required] !== 'string' || event[required] === '') {
      throw invalidEvent(`"${required}" is required and must be a non-empty string.`);
    }
  }
  return out;
}

/** Throws ValidationError unless `name` and `value` make a valid extension attribute. */
function checkExtension(name: string, value: unknown): void {
  if (!EXTENSION_NAME.test(name)) {
    throw invalidEvent(
      `extension attribute "${name}" must consist of lower-case letters and digits.`,
    );
  }
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw invalidEvent(`extension attribute "${name}" must be a string, a number or a boolean.`);
  }
  if (typeof value === 'string' && value.length > MAX_ATTRIBUTE_LENGTH) {
    throw invalidEvent(
      `extension attribute "${name}" must be at most ${MAX_ATTRIBUTE_LENGTH} characters long.`,
    );
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw invalidEvent(`extension attribute "${name}" must be a finite number.`);
  }
}

/**
 * The event with extension attributes added or replaced, as a new accepted (frozen) event.
 * Throws ValidationError for an invalid one, a context attribute (`id`, `data`...) or a name in
 * `reserved`; the event is then unchanged.
 */
export function withExtensions(
  event: CloudEvent,
  extensions: Readonly<Record<string, unknown>>,
  reserved: ReadonlySet<string>,
): CloudEvent {
  if (typeof extensions !== 'object' || extensions === null || Array.isArray(extensions)) {
    throw invalidEvent('"extensions" must be an object of extension attributes.');
  }
  const names = Object.keys(extensions);
  const values = names.map((name) => extensions[name]);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (CONTEXT_ATTRIBUTES.has(name) || name === HOP_COUNT || reserved.has(name)) {
      throw invalidEvent(`extension attribute "${name}" is reserved.`);
    }
    checkExtension(name, values[i]);
  }
  if (names.length === 0) return event;
  const out = Object.assign(newAcceptedEvent(), event);
  for (let i = 0; i < names.length; i++) out[names[i]] = values[i];
  return freezeAccepted(out) as CloudEvent;
}

/**
 * The event with one extension attribute set (or removed, for `undefined`), as a new accepted
 * (frozen) event: accepted events are never changed in place.
 */
export function withExtension(
  event: CloudEvent,
  name: string,
  value: string | undefined,
): CloudEvent {
  if (value === undefined && !Object.hasOwn(event, name)) return event;
  const out = Object.assign(newAcceptedEvent(), event);
  if (value === undefined) delete out[name];
  else out[name] = value;
  return freezeAccepted(out) as CloudEvent;
}
