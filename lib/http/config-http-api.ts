import { CommitUnknownError, GatewayError, ValidationError, type ResourceKind } from '../errors';
import type { WriteOptions } from '../config/configuration-api';
import type { Gateway } from '../gateway';
import { isValidSpace, optionsArgument, validationError } from '../model/checks';
import { describeError } from '../model/describe-error';
import { AccessControl, EVERY_SPACE, type AccessOptions, type AccessScope } from './access-control';
import type { EventsRequest, EventsResponse } from './http-types';
import { hasBody, requireJsonBody } from './json-write';
import { metadataFilter } from './metadata-filter';
import { BodyTooLargeError, requestBody } from './read-body';
import { requestPath, safeDecode } from './request-path';
import { bodyText } from './request-body';

/** What the Configuration API uses of a gateway. */
export type ConfigGateway = Pick<
  Gateway,
  | 'createEventType'
  | 'updateEventType'
  | 'deleteEventType'
  | 'getEventType'
  | 'listEventTypes'
  | 'registerFunction'
  | 'updateFunction'
  | 'deleteFunction'
  | 'getFunction'
  | 'listFunctions'
  | 'subscribe'
  | 'updateSubscription'
  | 'unsubscribe'
  | 'getSubscription'
  | 'listSubscriptions'
  | 'createCors'
  | 'updateCors'
  | 'deleteCors'
  | 'getCors'
  | 'listCors'
  | 'createConnection'
  | 'updateConnection'
  | 'deleteConnection'
  | 'getConnection'
  | 'listConnections'
  | 'listSpaces'
  | 'health'
> & {
  /** Reports a failure no client may see the details of. @internal */
  reportError(error: Error): void;
};

/** Options of the Configuration API handler and its adapters. */
export interface ConfigApiOptions extends AccessOptions {
  /**
   * Largest accepted body, in bytes; larger requests get 413.
   * @default 65536 (64 KiB)
   */
  bodyLimit?: number;
  /**
   * A path prefix to strip before routing (the API's own paths start with `/v1`).
   * @default ''
   */
  basePath?: string;
  /**
   * Answers `GET /v1/metrics` with Prometheus text (e.g. from a prom-client registry's
   * `metrics()`); without it that path is 404.
   * @default none
   */
  metrics?: () => string | Promise<string>;
  /**
   * Whether functions written through this API are the tenants' (`writer: 'tenant'`: held to the
   * gateway's policy for tenants' outbound calls) rather than the host's own.
   * @default true when `apiKeys` is given, false otherwise
   */
  tenantWrites?: boolean;
  /**
   * Serves the paths of these collections only: `['connections']` is the Event Gateway
   * Connector's API (0.9's connector answered on a port of its own, 4002). `GET /v1/status` is
   * always served; `/v1/spaces` and `/v1/metrics` only when every collection is.
   * @default every collection
   * @example
   * ```ts
   * createServer(createConfigHandler(gateway, { apiKeys, collections: ['connections'] })).listen(4002);
   * ```
   */
  collections?: readonly ConfigCollection[];
}

/** The resource collections of the Configuration API, as their paths name them. */
export type ConfigCollection =
  'eventtypes' | 'functions' | 'subscriptions' | 'cors' | 'connections';

type Handlers = {
  readonly kind: ResourceKind;
  /** The list wrapper's key in 0.9's answers. */
  readonly listKey: string;
  /** The ID field the path's last segment fills. */
  readonly idField: string;
  create(g: ConfigGateway, body: Record<string, unknown>, write: WriteOptions): Promise<unknown>;
  update(g: ConfigGateway, body: Record<string, unknown>, write: WriteOptions): Promise<unknown>;
  remove(g: ConfigGateway, at: Record<string, string>): Promise<void>;
  get(g: ConfigGateway, at: Record<string, string>): unknown;
  list(g: ConfigGateway, at: { space: string; metadata: Record<string, string> }): unknown[];
};

/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are checked by the gateway's rules */
const COLLECTIONS: Readonly<Record<string, Handlers>> = {
  eventtypes: {
    kind: 'eventType',
    listKey: 'eventTypes',
    idField: 'name',
    create: (g, b, write) => g.createEventType(b as any, write),
    update: (g, b) => g.updateEventType(b as any),
    remove: (g, at) => g.deleteEventType(at as any),
    get: (g, at) => g.getEventType(at as any),
    list: (g, at) => g.listEventTypes(at),
  },
  functions: {
    kind: 'function',
    listKey: 'functions',
    idField: 'functionId',
    create: (g, b, write) => g.registerFunction(b as any, write),
    update: (g, b, write) => g.updateFunction(b as any, write),
    remove: (g, at) => g.deleteFunction(at as any),
    get: (g, at) => g.getFunction(at as any),
    list: (g, at) => g.listFunctions(at),
  },
  subscriptions: {
    kind: 'subscription',
    listKey: 'subscriptions',
    idField: 'subscriptionId',
    create: (g, b, write) => g.subscribe(subscriptionWithType(b) as any, write),
    update: (g, b) => g.updateSubscription(b as any),
    remove: (g, at) => g.unsubscribe(at as any),
    get: (g, at) => g.getSubscription(at as any),
    list: (g, at) => g.listSubscriptions(at),
  },
  cors: {
    kind: 'cors',
    listKey: 'cors',
    idField: 'corsId',
    create: (g, b, write) => g.createCors(b as any, write),
    update: (g, b) => g.updateCors(b as any),
    remove: (g, at) => g.deleteCors(at as any),
    get: (g, at) => g.getCors(at as any),
    list: (g, at) => g.listCors(at),
  },
  // The Event Gateway Connector's paths, on the same API (and its keys and scopes).
  connections: {
    kind: 'connection',
    listKey: 'connections',
    idField: 'connectionId',
    create: (g, b, write) => g.createConnection(b as any, write),
    update: (g, b, write) => g.updateConnection(b as any, write),
    remove: (g, at) => g.deleteConnection(at as any),
    get: (g, at) => g.getConnection(at as any),
    list: (g, at) => g.listConnections(at),
  },
};
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * 0.9's server required a new subscription's `type` before anything else (its SDK's tests expect
 * this message, word for word); the library's `subscribe` defaults it to `async`.
 */
function subscriptionWithType(body: Record<string, unknown>): Record<string, unknown> {
  if (body.type !== undefined) return body;
  throw new ValidationError(
    `Subscription doesn't validate. Validation error: Key: 'Subscription.Type' Error:Field validation for 'Type' failed on the 'required' tag`,
    { resource: 'subscription', space: String(body.space) },
  );
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
const INTERNAL_ERROR = 'Internal error. Please check logs.';

function json(status: number, value: unknown): EventsResponse {
  return { status, headers: { ...JSON_TYPE }, body: JSON.stringify(value) };
}

function errorResponse(status: number, message: string): EventsResponse {
  return json(status, { errors: [{ message }] });
}

/**
 * The Configuration API of Event Gateway 0.9 over HTTP, framework-neutral: a request in, a
 * response out. Paths, bodies, list wrappers, `?metadata.<key>=<value>` filters, status codes and
 * error messages are 0.9's, so its SDK and scripts keep working; plus `GET /v1/spaces`,
 * `GET /v1/status` (503 with the reason while not ready) and `GET /v1/metrics`. Function secrets
 * are never sent (they read `'[redacted]'`). Adapters for node:http, Express and Koa wrap it.
 *
 * HEAD is a read, answered as GET without the body. A write's body must be `application/json`
 * (415 otherwise), so that a page on another site cannot make a browser send one with its
 * user's cookies: the API answers no CORS preflight.
 */
export class ConfigHttpApi {
  private readonly bodyLimit: number;
  private readonly basePath: string;
  private readonly access: AccessControl;
  /** What functions written here are marked with. */
  private readonly writeOptions: WriteOptions;
  /** The collections served; undefined: every one, and `/v1/spaces` and `/v1/metrics`. */
  private readonly collections: ReadonlySet<string> | undefined;

  constructor(
    private readonly gateway: ConfigGateway,
    private readonly options: ConfigApiOptions = {},
  ) {
    if (typeof gateway?.listEventTypes !== 'function' || typeof gateway.health !== 'function') {
      throw new TypeError(
        'Configuration API: the first argument must be a gateway (from createGateway).',
      );
    }
    optionsArgument(options, 'Configuration API');
    this.bodyLimit = options.bodyLimit ?? 64 * 1024;
    if (!Number.isSafeInteger(this.bodyLimit) || this.bodyLimit < 0) {
      throw new TypeError('Configuration API: "bodyLimit" must be a non-negative integer.');
    }
    this.basePath = (options.basePath ?? '').replace(/\/$/, '');
    this.access = new AccessControl(options, (error) => gateway.reportError(error));
    const tenantWrites = options.tenantWrites ?? options.apiKeys !== undefined;
    if (typeof tenantWrites !== 'boolean') {
      throw new TypeError('Configuration API: "tenantWrites" must be a boolean.');
    }
    this.writeOptions = tenantWrites ? { writer: 'tenant' } : {};
    const collections = options.collections;
    if (
      collections !== undefined &&
      (!Array.isArray(collections) || collections.some((c) => !Object.hasOwn(COLLECTIONS, c)))
    ) {
      throw new TypeError(
        `Configuration API: "collections" must be a list of ${Object.keys(COLLECTIONS).join(', ')}.`,
      );
    }
    this.collections = collections && new Set(collections);
  }

  /** Answers one request. Never rejects: every failure becomes an error response. */
  async handle(request: EventsRequest): Promise<EventsResponse> {
    const response = await this.answer(request);
    if (String(request.method).toUpperCase() !== 'HEAD' || response.body === undefined) {
      return response;
    }
    // GET's headers, its length included, without its body.
    const length = String(Buffer.byteLength(response.body));
    return { status: response.status, headers: { ...response.headers, 'content-length': length } };
  }

  private async answer(request: EventsRequest): Promise<EventsResponse> {
    try {
      return await this.respond(request);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return errorResponse(413, error.message);
      if (error instanceof GatewayError && error.status < 500) {
        return errorResponse(error.status, error.message);
      }
      if (error instanceof GatewayError && error.status === 503) {
        return errorResponse(503, error.message);
      }
      // 504, not 503: the write may have been applied, and 503 would tell a client it was not.
      if (error instanceof CommitUnknownError) return errorResponse(504, error.message);
      this.gateway.reportError(
        new Error(`The Configuration API failed a request: ${describeError(error)}`, {
          cause: error,
        }),
      );
      return errorResponse(500, INTERNAL_ERROR);
    }
  }

  private async respond(request: EventsRequest): Promise<EventsResponse> {
    const located = requestPath(request.url, this.basePath);
    if ('status' in located) return errorResponse(located.status, located.message);
    const { url, path } = located;
    const raw = path.split('/').filter(Boolean);
    const decoded = raw.map(safeDecode);
    const method = String(request.method).toUpperCase();
    const reads = method === 'GET' || method === 'HEAD';
    if (decoded[0] !== 'v1' || decoded.includes(null)) return errorResponse(404, 'Not found.');
    const [, first, space, collection, decodedId, ...rest] = decoded as string[];
    // CORS IDs are stored escaped (`GET%2Fusers`, 0.9's form): they are looked up as sent.
    const id = collection === 'cors' ? raw[4] : decodedId;
    if (raw.length === 2 && reads) {
      if (first === 'status') return this.status(request);
      const all = this.collections === undefined;
      if (first === 'metrics' && this.options.metrics && all) return this.metrics(request);
      if (first === 'spaces' && all) return this.spaces(request);
    }
    // 0.9's spec names one subscription `/subscription/:id`, its server `/subscriptions/:id`.
    const name = collection === 'subscription' && id ? 'subscriptions' : collection;
    // Own entries only: `__proto__` or `constructor` would find Object's own (a 500). Checked on
    // the parsed path, so `connections/../functions` is `functions`, and refused on its own.
    const served = Object.hasOwn(COLLECTIONS, name) && (this.collections?.has(name) ?? true);
    const handlers = served ? COLLECTIONS[name] : undefined;
    if (first !== 'spaces' || !handlers || rest.length > 0 || space === undefined) {
      return errorResponse(404, 'Not found.');
    }
    if (!isValidSpace(space)) {
      throw validationError(handlers.kind, `invalid space "${String(space).slice(0, 100)}".`);
    }
    const scope: AccessScope = reads ? 'read' : 'write';
    const allowed = await this.access.check(request, space, scope);
    if ('refused' in allowed) return allowed.refused;
    const g = this.gateway;
    const at = { space, [handlers.idField]: id } as Record<string, string>;
    if (id === undefined) {
      if (reads) {
        const metadata = metadataFilter(url.searchParams, handlers.kind);
        return json(200, { [handlers.listKey]: handlers.list(g, { space, metadata }) });
      }
      if (method === 'POST') {
        const body = await this.body(request, handlers.kind);
        return json(201, await handlers.create(g, { ...body, space }, this.writeOptions));
      }
      return errorResponse(405, `Method ${method} is not allowed here.`);
    }
    if (reads) return json(200, handlers.get(g, at));
    if (method === 'PUT') {
      const body = await this.body(request, handlers.kind);
      return json(200, await handlers.update(g, { ...body, ...at }, this.writeOptions));
    }
    if (method === 'DELETE') {
      // Its body is not read, but one sent as a form is refused like any cross-site write.
      if (hasBody(request.headers)) requireJsonBody(request.headers);
      await handlers.remove(g, at);
      return { status: 204, headers: {} };
    }
    return errorResponse(405, `Method ${method} is not allowed here.`);
  }

  /**
   * Health for load balancers, so it needs no key; but a store's or a journal's failure names
   * addresses and paths, so only a caller who may read every space is told the details.
   */
  private async status(request: EventsRequest): Promise<EventsResponse> {
    const health = this.gateway.health();
    if (health.ready && health.lastError === undefined) return json(200, { status: 'ok' });
    const [reason, detail] = health.journal?.lastError
      ? ['the journal is unavailable', health.journal.lastError]
      : !health.ready
        ? ['the configuration is not loaded yet', undefined]
        : ['the store is failing', health.lastError];
    const trusted =
      detail !== undefined &&
      !('refused' in (await this.access.check(request, EVERY_SPACE, 'read')));
    return errorResponse(503, `Not ready: ${reason}${trusted ? `: ${detail}` : ''}.`);
  }

  private async metrics(request: EventsRequest): Promise<EventsResponse> {
    // They name every space's functions and counts: a key for some spaces only may not read them.
    const allowed = await this.access.check(request, EVERY_SPACE, 'read');
    if ('refused' in allowed) return allowed.refused;
    const text = await (this.options.metrics as () => string | Promise<string>)();
    return {
      status: 200,
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
      body: text,
    };
  }

  private async spaces(request: EventsRequest): Promise<EventsResponse> {
    const readable = await this.access.readableSpaces(request, () => this.gateway.listSpaces());
    return 'refused' in readable ? readable.refused : json(200, readable);
  }

  /** The request's JSON object body; anything else is 0.9's validation error for the kind. */
  private async body(request: EventsRequest, kind: ResourceKind): Promise<Record<string, unknown>> {
    requireJsonBody(request.headers);
    const body = await requestBody(request, this.bodyLimit);
    let value: unknown = body.parsed;
    if (value === undefined) {
      try {
        value = JSON.parse(bodyText(body));
      } catch {
        throw validationError(kind, 'the body is not valid JSON.');
      }
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw validationError(kind, 'the body must be a JSON object.');
    }
    return value as Record<string, unknown>;
  }
}
