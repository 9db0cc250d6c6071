import type { Readable } from 'node:stream';

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

/** What a request does: read configuration, change it, or emit events. */
export type AccessScope = 'read' | 'write' | 'emit';

/** An API key, as its hash: the key itself is never configured, logged or kept. */
export interface ApiKey {
  /** SHA-256 of the key, in hex (`printf %s "$KEY" | sha256sum`). */
  readonly hash: string;
  /** The spaces it may act in, or `'*'` for every space. */
  readonly spaces: readonly string[] | '*';
  /** What it may do there. */
  readonly scopes: readonly AccessScope[];
  /** A name for logs and errors (never the key). */
  readonly name?: string;
}

/** Access options shared by the Events API and the Configuration API. */
export interface AccessOptions {
  /**
   * API keys: a request must carry one (`Authorization: Bearer <key>` or `X-Api-Key: <key>`)
   * allowed in its space for what it does. A missing or unknown key is 401, a key used outside
   * its spaces or scopes 403; nothing is changed or delivered.
   * @default none: no key is asked for
   */
  apiKeys?: readonly ApiKey[];
  /**
   * Your own check, after the keys: resolve false to refuse a request with 403 (a throw refuses
   * too, and is reported as `gateway.error`). `space` is the space the request acts in;
   * `undefined` for a listing of spaces (`GET /v1/spaces`, the dashboard's), which then holds
   * the spaces this hook allows when asked for each one; `'*'` for what spans every space at
   * once (`GET /v1/metrics`, the store's and the journal's errors): allow it to operators only.
   * @default none
   * @example
   * ```ts
   * createConfigHandler(gateway, {
   *   authorize: (req, { space }) => space === undefined || sessionOf(req).spaces.includes(space),
   * });
   * ```
   */
  authorize?: (
    request: EventsRequest,
    access: { readonly space: string | undefined; readonly scope: AccessScope },
  ) => boolean | Promise<boolean>;
}
