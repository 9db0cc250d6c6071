import type { CloudEvent } from '../model/cloud-event';
import { HTTP_REQUEST_EVENT } from '../model/event-type';
import { GATEWAY_SOURCE } from './classify-request';
import { flatHeaders } from './headers';
import type { RequestHeaders } from './http-types';
import { bodyData, mediaType, type RequestBody } from './request-body';

/** The data of an `http.request` event, as Event Gateway 0.9 shaped it. */
export interface HttpRequestData {
  readonly path: string;
  readonly method: string;
  /** Header names lower-cased, repeated headers joined with `, `. */
  readonly headers: Record<string, string>;
  readonly host: string;
  /** Every query parameter, with all its values. */
  readonly query: Record<string, string[]>;
  /** The sync route's `:param` and `*wildcard` values. */
  readonly params: Record<string, string>;
  /** JSON parsed, text as a string, binary as base64 (then `isBase64Encoded` is true). */
  readonly body: unknown;
  readonly isBase64Encoded?: boolean;
}

/** Turns a plain HTTP request into an `http.request` CloudEvent (the gateway is its source). */
export function httpRequestEvent(
  method: string,
  path: string,
  url: URL,
  headers: RequestHeaders,
  body: RequestBody,
  params: Record<string, string>,
): CloudEvent {
  const flat = flatHeaders(headers);
  // No prototype: a parameter named "constructor" or "__proto__" is just a parameter.
  const query: Record<string, string[]> = Object.create(null);
  for (const [name, value] of url.searchParams) {
    if (Object.hasOwn(query, name)) query[name].push(value);
    else query[name] = [value];
  }
  const { data, binary } = bodyData(body, mediaType(headers['content-type']));
  const requestData: HttpRequestData = {
    path,
    method,
    headers: flat,
    host: flat.host ?? '',
    query,
    params,
    body: data,
    ...(binary ? { isBase64Encoded: true } : {}),
  };
  return {
    specversion: '1.0',
    id: crypto.randomUUID(),
    source: GATEWAY_SOURCE,
    type: HTTP_REQUEST_EVENT,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: requestData,
  };
}
