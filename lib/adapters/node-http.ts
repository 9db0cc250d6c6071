import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway } from '../gateway';
import { EventsApi } from '../http/events-api';
import type { EventsApiOptions, EventsResponse } from '../http/http-types';

/** Writes an Events API response to a node:http response. */
export function writeResponse(res: ServerResponse, response: EventsResponse): void {
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  if (response.body !== undefined)
    res.setHeader('content-length', Buffer.byteLength(response.body));
  res.end(response.body);
}

/**
 * The Events API as a node:http request listener.
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * createServer(createEventsHandler(gateway)).listen(4000);
 * ```
 */
export function createEventsHandler(
  gateway: Gateway,
  options: EventsApiOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const api = new EventsApi(gateway, options);
  return (req, res) => {
    void api
      .handle({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        stream: req,
      })
      .then((response) => writeResponse(res, response));
  };
}
