import { invalidEvent } from '../model/cloud-event';
import { GATEWAY_EXTENSIONS } from '../events/gateway-extensions';
import { newMadeEvent } from '../events/made-event';
import { refuseReservedType } from '../model/system-events';
import type { CloudEvent } from '../model/cloud-event';
import type { ConnectionRecord } from '../model/connection';
import type { SourceMessage } from './source';

/** The largest message a connection takes by default: larger ones are refused (dead-lettered). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The message's body as text, or undefined when it is not valid UTF-8. */
export function bodyText(body: Buffer | string): string | undefined {
  if (typeof body === 'string') return body;
  try {
    return utf8.decode(body);
  } catch {
    return undefined;
  }
}

/**
 * A message's body as text or a Buffer: any other Uint8Array (what the AWS SDK gives) read in
 * place as a Buffer, whose `toString('base64')` a made event's `data_base64` is taken on trust
 * from (a Uint8Array's writes `255,254`); undefined for anything else, which a custom source may
 * hand over from JavaScript.
 * @example
 * ```ts
 * messageBody(new Uint8Array([0xff])); // <Buffer ff>
 * messageBody({}); // undefined
 * ```
 */
export function messageBody(body: unknown): Buffer | string | undefined {
  if (typeof body === 'string' || Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return undefined;
}

/** `/spaces/<space>/connections/<id>`: the `source` of the events a connection makes. */
export function connectionSource(record: Pick<ConnectionRecord, 'space' | 'connectionId'>): string {
  return `/spaces/${record.space}/connections/${record.connectionId}`;
}

/** A JSON media type (`application/json`, `application/cloudevents+json`, `text/json`...). */
const JSON_TYPE = /[/+]json(;|$)/i;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The last time written, and its instant: a producer's batch of messages shares a timestamp. */
let lastText = '';
let lastTime = NaN;

/** `date` as `toISOString` writes it (a third of a message's own cost, so once per instant). */
function timeText(date: Date): string | undefined {
  const time = date.getTime();
  if (time !== lastTime) {
    if (Number.isNaN(time)) return undefined;
    lastText = date.toISOString();
    lastTime = time;
  }
  return lastText;
}

/**
 * The event a message becomes, before the gateway validates it: with `cloudEvents`, the message
 * is a structured CloudEvent taken as it is (but never one carrying a gateway-only extension or
 * a reserved `eventgateway.*` type: a message is untrusted); otherwise its data is wrapped in an
 * event of the connection's `eventType` (`id` the message's, `source` naming the connection,
 * `time` the message's; JSON data parsed, other text as a string, bytes as `data_base64`).
 * Throws ValidationError for a message that cannot become an event: the run dead-letters it.
 * A wrapped message is a made event (`newMadeEvent`): its parsed data is accepted without a copy.
 * @example
 * ```ts
 * messageEvent(record, { id: '0-17', body: '{"n":1}', ack }).data; // { n: 1 }
 * ```
 */
export function messageEvent(
  record: ConnectionRecord,
  message: SourceMessage,
  maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
): Record<string, unknown> {
  const body = messageBody(message.body);
  if (body === undefined) throw invalidEvent('the message body is neither text nor bytes.');
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size > maxBytes) {
    throw invalidEvent(`the message is ${size} bytes, over the limit of ${maxBytes}.`);
  }
  const text = bodyText(body);
  if (record.cloudEvents) {
    const parsed = text === undefined ? undefined : parseJson(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw invalidEvent('the message is not a structured CloudEvent (a JSON object).');
    }
    const event = parsed as Record<string, unknown>;
    for (const name of GATEWAY_EXTENSIONS) {
      if (Object.hasOwn(event, name)) {
        throw invalidEvent(`the message carries "${name}", an extension only the gateway sets.`);
      }
    }
    if (typeof event.type === 'string') refuseReservedType(event as unknown as CloudEvent);
    return event;
  }
  // Made by the gateway: its time and parsed data are taken on trust when accepted (see
  // made-event.ts), so both must be what that promises; the ID and content type are checked there.
  const event = newMadeEvent();
  event.specversion = '1.0';
  event.id = message.id;
  event.source = connectionSource(record);
  event.type = record.eventType;
  const time = message.time && timeText(message.time);
  if (time !== undefined) {
    // Years past 9999 or before 0 come out as `+275760-09-13T...`: not RFC 3339 (a producer sets
    // a Kafka timestamp), refused as the accept stage refuses such a time.
    if (time.length !== 24) {
      throw invalidEvent(`"time" must be an RFC 3339 timestamp, got ${JSON.stringify(time)}.`);
    }
    event.time = time;
  }
  const saysJson = message.contentType !== undefined && JSON_TYPE.test(message.contentType);
  const data =
    text !== undefined && (message.contentType === undefined || saysJson)
      ? parseJson(text)
      : undefined;
  if (data === undefined && text !== undefined && saysJson) {
    throw invalidEvent(`the message says "${message.contentType}" but is not JSON.`);
  }
  if (data !== undefined) {
    event.datacontenttype = 'application/json';
    event.data = data;
  } else if (text !== undefined) {
    event.datacontenttype = message.contentType ?? 'text/plain';
    event.data = text;
  } else {
    event.datacontenttype = message.contentType ?? 'application/octet-stream';
    event.data_base64 = (body as Buffer).toString('base64');
  }
  return event;
}
