import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventsGateway } from '../http/events-gateway';
import { ConfigHttpApi, type ConfigApiOptions, type ConfigGateway } from '../http/config-http-api';
import type { Dashboard, DashboardGateway, DashboardOptions } from '../http/dashboard';
import type { DashboardResponse } from '../http/dashboard';
import { EventsApi } from '../http/events-api';
import type { EventsApiOptions, RequestHandler } from '../http/http-types';
import { newDashboard, writeStreamResponse } from './node-http';
import { ownPortLearner } from './own-ports';

/** The parts of a Koa context the middleware uses (no dependency on Koa's types). */
export interface KoaLikeContext {
  method: string;
  url: string;
  req: IncomingMessage;
  /** The response, written directly for a stream (the dashboard's live feed). */
  res?: ServerResponse;
  /** Set to false when the middleware wrote the response itself. */
  respond?: boolean;
  request: { body?: unknown; rawBody?: string };
  status: number;
  body: unknown;
  /** Sets response headers. */
  set(field: Record<string, string>): void;
}

/** Koa middleware serving a handler (Events or Configuration API). */
export type KoaMiddleware = (ctx: KoaLikeContext, next: () => Promise<unknown>) => Promise<void>;

function koaHandler(api: RequestHandler, gateway: object): KoaMiddleware {
  const learnOwnPort = ownPortLearner(gateway);
  return async (ctx) => {
    learnOwnPort(ctx.req.socket);
    const consumed = ctx.req.readableEnded;
    const response: DashboardResponse = await api.handle({
      method: ctx.method,
      url: ctx.url,
      headers: ctx.req.headers,
      stream: consumed ? undefined : ctx.req,
      parsedBody: consumed ? (ctx.request.rawBody ?? ctx.request.body) : undefined,
    });
    if (response.stream && ctx.res) {
      // Written here, not by Koa: Koa reports a feed the browser closes as an error ("Premature
      // close") to the app's error handler, which logs it by default.
      ctx.respond = false;
      return writeStreamResponse(ctx.res, response);
    }
    try {
      ctx.status = response.status;
      ctx.set(response.headers);
      // Koa turns a null body into 204: set it only when there is one.
      if (response.stream) ctx.body = response.stream;
      else if (response.body !== undefined) ctx.body = response.body;
    } catch {
      // A header Koa refuses: answer 500 rather than leave half a response.
      ctx.status = 500;
      ctx.body = { errors: [{ message: 'Internal error. Please check logs.' }] };
    }
  };
}

/**
 * The Events API as Koa (3) middleware. With koa-mount, paths are relative to the mount point;
 * without, pass `basePath`. Works whether or not a body parser ran before it (its `rawBody` is
 * preferred when present).
 * @example
 * ```ts
 * app.use(koaMiddleware(gateway, { basePath: '/events' }));
 * ```
 */
export function koaMiddleware(
  gateway: EventsGateway,
  options: EventsApiOptions = {},
): KoaMiddleware {
  return koaHandler(new EventsApi(gateway, options), gateway);
}

/**
 * The Configuration API (Event Gateway 0.9's, under `/v1`) as Koa (3) middleware.
 * @example
 * ```ts
 * app.use(koaConfigMiddleware(gateway, { basePath: '/admin', apiKeys }));
 * ```
 */
export function koaConfigMiddleware(
  gateway: ConfigGateway,
  options: ConfigApiOptions = {},
): KoaMiddleware {
  return koaHandler(new ConfigHttpApi(gateway, options), gateway);
}

/**
 * The dashboard (see {@link Dashboard}) as Koa (3) middleware. Without koa-mount, pass
 * `basePath`; `dashboard.close()` ends its feeds.
 * @example
 * ```ts
 * app.use(koaDashboardMiddleware(gateway, { basePath: '/dashboard', apiKeys }));
 * ```
 */
export function koaDashboardMiddleware(
  gateway: DashboardGateway,
  options: DashboardOptions = {},
): KoaMiddleware & { readonly dashboard: Dashboard } {
  const dashboard = newDashboard(gateway, options);
  return Object.assign(koaHandler(dashboard, gateway), { dashboard });
}
