import type { IncomingMessage } from 'node:http';
import type { EventsGateway } from '../http/events-gateway';
import { EventsApi } from '../http/events-api';
import type { EventsApiOptions } from '../http/http-types';

/** The parts of a Koa context the middleware uses (no dependency on Koa's types). */
export interface KoaLikeContext {
  method: string;
  url: string;
  req: IncomingMessage;
  request: { body?: unknown; rawBody?: string };
  status: number;
  body: unknown;
  /** Sets response headers. */
  set(field: Record<string, string>): void;
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
): (ctx: KoaLikeContext, next: () => Promise<unknown>) => Promise<void> {
  const api = new EventsApi(gateway, options);
  return async (ctx) => {
    const consumed = ctx.req.readableEnded;
    const response = await api.handle({
      method: ctx.method,
      url: ctx.url,
      headers: ctx.req.headers,
      stream: consumed ? undefined : ctx.req,
      parsedBody: consumed ? (ctx.request.rawBody ?? ctx.request.body) : undefined,
    });
    try {
      ctx.status = response.status;
      ctx.set(response.headers);
      // Koa turns a null body into 204: set it only when there is one.
      if (response.body !== undefined) ctx.body = response.body;
    } catch {
      // A header Koa refuses: answer 500 rather than leave half a response.
      ctx.status = 500;
      ctx.body = { errors: [{ message: 'Internal error. Please check logs.' }] };
    }
  };
}
