import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { ConfigHttpApi, type ConfigApiOptions, type ConfigGateway } from '../http/config-http-api';
import type { Dashboard, DashboardOptions, DashboardResponse } from '../http/dashboard';
import type { DashboardGateway } from '../http/dashboard';
import { EventsApi } from '../http/events-api';
import type { EventsGateway } from '../http/events-gateway';
import type { EventsApiOptions, EventsResponse, RequestHandler } from '../http/http-types';
import { ownPortLearner } from './own-ports';

const FAILED_BODY = JSON.stringify({ errors: [{ message: 'Internal error. Please check logs.' }] });

/**
 * Writes an Events API response to a node:http response. Never throws: when the response cannot
 * be written as is (a header node:http refuses), it answers 500 if nothing was sent yet, and
 * otherwise ends the connection, so that no write failure escapes into the host.
 */
export function writeResponse(res: ServerResponse, response: EventsResponse): void {
  try {
    res.statusCode = response.status;
    for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
    if (response.body !== undefined)
      res.setHeader('content-length', Buffer.byteLength(response.body));
    res.end(response.body);
  } catch {
    failResponse(res);
  }
}

/** Answers 500 when nothing was sent yet, and otherwise ends the connection. Never throws. */
export function failResponse(res: ServerResponse): void {
  try {
    if (!res.headersSent) {
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.statusCode = 500;
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.setHeader('content-length', Buffer.byteLength(FAILED_BODY));
      res.end(FAILED_BODY);
      return;
    }
  } catch {
    // Fall through: the connection is closed instead.
  }
  res.destroy();
}

/**
 * Writes a dashboard response: a whole body as {@link writeResponse} does, or its live feed,
 * piped until either side ends (a closed connection destroys the feed). Never throws.
 * @example
 * ```ts
 * createServer(async (req, res) => writeStreamResponse(res, await dashboard.handle({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, stream: req })));
 * ```
 */
export function writeStreamResponse(res: ServerResponse, response: DashboardResponse): void {
  const stream = response.stream;
  if (!stream) return writeResponse(res, response);
  try {
    res.writeHead(response.status, response.headers);
    res.flushHeaders();
  } catch {
    stream.destroy();
    return failResponse(res);
  }
  pipeline(stream, res, () => undefined);
}

/** A handler (Events or Configuration API, dashboard) as a node:http request listener. */
function nodeListener(
  api: RequestHandler,
  gateway: object,
  write: (res: ServerResponse, response: DashboardResponse) => void = writeResponse,
): (req: IncomingMessage, res: ServerResponse) => void {
  const learnOwnPort = ownPortLearner(gateway);
  return (req, res) => {
    learnOwnPort(req.socket);
    api
      .handle({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        stream: req,
      })
      .then(
        (response) => write(res, response),
        () => failResponse(res),
      );
  };
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
  gateway: EventsGateway,
  options: EventsApiOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return nodeListener(new EventsApi(gateway, options), gateway);
}

/**
 * The Configuration API (Event Gateway 0.9's, under `/v1`) as a node:http request listener.
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * createServer(createConfigHandler(gateway)).listen(4001);
 * ```
 */
export function createConfigHandler(
  gateway: ConfigGateway,
  options: ConfigApiOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return nodeListener(new ConfigHttpApi(gateway, options), gateway);
}

/**
 * A new {@link Dashboard}, its code loaded on first use (dist/lazy.js, see scripts/build.js): a
 * host that serves no dashboard never loads it. Throws what its constructor throws.
 * @example
 * ```ts
 * const dashboard = newDashboard(gateway, { apiKeys });
 * ```
 */
export function newDashboard(gateway: DashboardGateway, options: DashboardOptions): Dashboard {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
  const { Dashboard } = require('../http/dashboard') as typeof import('../http/dashboard');
  return new Dashboard(gateway, options);
}

/** A node:http request listener serving the dashboard; `dashboard.close()` ends its feeds. */
export type DashboardListener = ((req: IncomingMessage, res: ServerResponse) => void) & {
  readonly dashboard: Dashboard;
};

/**
 * The dashboard (see {@link Dashboard}) as a node:http request listener: the page at
 * `<basePath>/`, its data under `<basePath>/api/`.
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * const handler = createDashboardHandler(gateway, { apiKeys, basePath: '/dashboard' });
 * createServer(handler).listen(4002); // http://127.0.0.1:4002/dashboard/
 * // on shutdown: handler.dashboard.close();
 * ```
 */
export function createDashboardHandler(
  gateway: DashboardGateway,
  options: DashboardOptions = {},
): DashboardListener {
  const dashboard = newDashboard(gateway, options);
  return Object.assign(nodeListener(dashboard, gateway, writeStreamResponse), { dashboard });
}
