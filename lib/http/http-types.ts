import type { Readable } from 'node:stream';
import type { AccessOptions } from './access-control';

/** Request headers, lower-cased names (as node:http gives them). */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * A request as the Events API sees it, whatever the framework: adapters build it from theirs.
 * `body` is the raw stream, or what a body parser already made of it.
 */
export interface EventsRequest {
  readonly method: string;
  /** Path and query, relative to where the API is mounted (e.g. `/users/1?x=2`). */
  readonly url: string;
  readonly headers: RequestHeaders;
  /** The unread body stream, when no body parser consumed it. */
  readonly stream?: Readable;
  /**
   * A body already read by a body parser: a Buffer or string (raw), or a parsed value
   * (`express.json()`, `@koa/bodyparser`). Used when the stream was consumed.
   */
  readonly parsedBody?: unknown;
}

/** The Events API's answer, for the adapter to write. */
export interface EventsResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: string | Buffer;
}

/** What an adapter serves: the Events API or the Configuration API. */
export interface RequestHandler {
  /** Answers one request; never rejects. */
  handle(request: EventsRequest): Promise<EventsResponse>;
}

/** Options of the Events API handler and its adapters. */
export interface EventsApiOptions extends AccessOptions {
  /**
   * The space requests belong to: a name, or a function of the request (e.g. from the host or a
   * header).
   * @default the gateway's `space` option
   */
  space?: string | ((request: EventsRequest) => string);
  /**
   * Largest accepted body, in bytes; larger requests get 413.
   * @default 1048576 (1 MiB)
   */
  bodyLimit?: number;
  /**
   * Most events in one batch request (`application/cloudevents-batch+json`); larger batches get
   * 400 and nothing is emitted.
   * @default 100
   */
  maxBatchSize?: number;
  /**
   * A path prefix to strip before routing, for frameworks that do not strip their mount path
   * (Koa without koa-mount, a plain node:http server).
   * @default ''
   */
  basePath?: string;
}
