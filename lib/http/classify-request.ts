import { ValidationError } from '../errors';
import { invalidEvent } from '../model/cloud-event';
import { HTTP_REQUEST_EVENT } from '../model/event-type';
import { percentDecode } from '../model/paths';
import { headerValue } from './headers';
import type { RequestHeaders } from './http-types';
import { bodyData, bodyJson, isJsonType, mediaType, type RequestBody } from './request-body';

/**
 * How a request carries its event(s): as posted, not yet validated (the gateway's accept stage
 * parses each once, with the gateway's limits).
 */
export type Classified =
  | {
      readonly kind: 'event';
      readonly mode: 'structured' | 'binary' | 'legacy';
      readonly event: unknown;
    }
  | { readonly kind: 'batch'; readonly events: readonly unknown[] }
  | { readonly kind: 'http' };

/** The source of events the gateway makes itself from legacy requests. */
export const GATEWAY_SOURCE = 'https://serverless.com/event-gateway/#transformationVersion=0.1';

/**
 * Classifies a request, in order: structured CloudEvent (`application/cloudevents+json`), batch
 * (`application/cloudevents-batch+json`), binary 1.0 (`ce-specversion` and other `ce-*`
 * headers), binary 0.1 (`ce-cloudeventsversion`), a CloudEvents 0.1 JSON body (Event Gateway
 * 0.9 accepted it as `application/json`), the legacy `Event` header; anything else is a plain
 * HTTP request. Throws ValidationError (a 400) for a body that cannot hold an event (not JSON,
 * a batch that is not an array or too long, a binary event with a data header).
 */
export function classifyRequest(
  headers: RequestHeaders,
  body: RequestBody,
  maxBatchSize: number,
): Classified {
  const type = mediaType(headers['content-type']);
  if (type === 'application/cloudevents+json') {
    return { kind: 'event', mode: 'structured', event: bodyJson(body) };
  }
  if (type === 'application/cloudevents-batch+json') {
    const batch = bodyJson(body);
    if (!Array.isArray(batch)) throw invalidEvent('a batch must be a JSON array of events.');
    // Bounded before any item is validated or copied: a long batch costs nothing but its parse.
    if (batch.length > maxBatchSize) {
      throw new ValidationError(
        `A batch may hold at most ${maxBatchSize} events (got ${batch.length}).`,
      );
    }
    return { kind: 'batch', events: batch };
  }
  if (headerValue(headers, 'ce-specversion') !== undefined) {
    return {
      kind: 'event',
      mode: 'binary',
      event: binaryEvent(headers, body, type),
    };
  }
  if (headerValue(headers, 'ce-cloudeventsversion') !== undefined) {
    return {
      kind: 'event',
      mode: 'binary',
      event: binaryEvent01(headers, body, type),
    };
  }
  if (isJsonType(type)) {
    const json = safeJson(body);
    if (
      json &&
      typeof json === 'object' &&
      (json as Record<string, unknown>).cloudEventsVersion === '0.1'
    ) {
      return { kind: 'event', mode: 'structured', event: json };
    }
  }
  const legacyType = headerValue(headers, 'event');
  if (legacyType !== undefined && legacyType !== HTTP_REQUEST_EVENT) {
    const { data, binary } = bodyData(body, type);
    const event: Record<string, unknown> = {
      specversion: '1.0',
      id: crypto.randomUUID(),
      source: GATEWAY_SOURCE,
      type: legacyType,
    };
    if (type) event.datacontenttype = type;
    if (data !== undefined) event[binary ? 'data_base64' : 'data'] = data;
    return { kind: 'event', mode: 'legacy', event };
  }
  return { kind: 'http' };
}

function safeJson(body: RequestBody): unknown {
  try {
    return bodyJson(body);
  } catch {
    return undefined;
  }
}

/** A binary-mode 1.0 event: attributes from `ce-*` headers, data from the body. */
function binaryEvent(
  headers: RequestHeaders,
  body: RequestBody,
  type: string,
): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('ce-') || value === undefined) continue;
    const attribute = name.slice(3);
    if (attribute === 'data' || attribute === 'data_base64') {
      throw invalidEvent(
        `the "${name}" header is not allowed: in binary mode the body is the data.`,
      );
    }
    const text = Array.isArray(value) ? value.join(', ') : value;
    event[attribute] = percentDecode(text) ?? text;
  }
  const contentType = headerValue(headers, 'content-type');
  if (contentType) event.datacontenttype = contentType;
  const { data, binary } = bodyData(body, type);
  if (data !== undefined) event[binary ? 'data_base64' : 'data'] = data;
  return event;
}

/** A binary-mode 0.1 event (Event Gateway 0.9's `CE-*` header names). */
function binaryEvent01(
  headers: RequestHeaders,
  body: RequestBody,
  type: string,
): Record<string, unknown> {
  const event: Record<string, unknown> = {
    cloudEventsVersion: headerValue(headers, 'ce-cloudeventsversion'),
    eventType: headerValue(headers, 'ce-eventtype'),
    source: headerValue(headers, 'ce-source'),
    eventID: headerValue(headers, 'ce-eventid'),
  };
  const optional: [string, string][] = [
    ['ce-eventtypeversion', 'eventTypeVersion'],
    ['ce-eventtime', 'eventTime'],
    ['ce-schemaurl', 'schemaURL'],
  ];
  for (const [name, field] of optional) {
    const value = headerValue(headers, name);
    if (value !== undefined) event[field] = value;
  }
  event.contentType = headerValue(headers, 'ce-contenttype') ?? (type || undefined);
  const extensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('ce-x-') && typeof value === 'string') extensions[name.slice(5)] = value;
  }
  if (Object.keys(extensions).length > 0) event.extensions = extensions;
  const { data } = bodyData(body, type);
  if (data !== undefined) event.data = data;
  return event;
}
