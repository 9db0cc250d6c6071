import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventsGateway } from '../http/events-gateway';
import { ConfigHttpApi, type ConfigApiOptions, type ConfigGateway } from '../http/config-http-api';
import type { Dashboard, DashboardGateway, DashboardOptions } from '../http/dashboard';
import type { DashboardResponse } from '../http/dashboard';
import { EventsApi } from '../http/events-api';
import type { EventsApiOptions, RequestHandler } from '../http/http-types';
import { failResponse, newDashboard, writeResponse, writeStreamResponse } from './node-http';
import { ownPortLearner } from './own-ports';

/** The parts of an Express request the middleware reads (no dependency on Express's types). */
export type ExpressLikeRequest = IncomingMessage & { body?: unknown };

/** Express middleware serving a handler (Events or Configuration API). */
export type ExpressMiddleware = (
  req: ExpressLikeRequest,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

function expressHandler(
  api: RequestHandler,
  gateway: object,
  write: (res: ServerResponse, response: DashboardResponse) => void = writeResponse,
): ExpressMiddleware {
  const learnOwnPort = ownPortLearner(gateway);
  return (req, res, next) => {
    learnOwnPort(req.socket);
    api
      .handle({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        stream: req.readableEnded ? undefined : req,
        parsedBody: req.body,
      })
      .then(
        (response) => write(res, response),
        (error: unknown) => {
          // handle() never rejects; should it ever, Express's error handling takes over.
          try {
            next(error);
          } catch {
            failResponse(res);
          }
        },
      );
  };
}

/**
 * The Events API as Express (5) middleware. Mount it under a path: Express strips the mount path,
 * so routes and sync subscriptions see paths relative to it. Works whether or not a body parser
 * ran before it.
 * @example
 * ```ts
 * app.use('/events', expressMiddleware(gateway));
 * ```
 */
export function expressMiddleware(
  gateway: EventsGateway,
  options: EventsApiOptions = {},
): ExpressMiddleware {
  return expressHandler(new EventsApi(gateway, options), gateway);
}

/**
 * The Configuration API (Event Gateway 0.9's, under `/v1`) as Express (5) middleware: mount it
 * behind your own authentication, or give it `apiKeys`.
 * @example
 * ```ts
 * app.use('/admin', requireAdmin, expressConfigMiddleware(gateway));
 * // GET /admin/v1/spaces/default/functions
 * ```
 */
export function expressConfigMiddleware(
  gateway: ConfigGateway,
  options: ConfigApiOptions = {},
): ExpressMiddleware {
  return expressHandler(new ConfigHttpApi(gateway, options), gateway);
}

/**
 * The dashboard (see {@link Dashboard}) as Express (5) middleware; mount it under a path and
 * open it with the trailing slash. `dashboard.close()` ends its feeds. A compression middleware
 * in front of it must not buffer `text/event-stream`.
 * @example
 * ```ts
 * const dashboard = expressDashboardMiddleware(gateway, { apiKeys });
 * app.use('/dashboard', dashboard); // http://host/dashboard/
 * ```
 */
export function expressDashboardMiddleware(
  gateway: DashboardGateway,
  options: DashboardOptions = {},
): ExpressMiddleware & { readonly dashboard: Dashboard } {
  const dashboard = newDashboard(gateway, options);
  return Object.assign(expressHandler(dashboard, gateway, writeStreamResponse), { dashboard });
}
