import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Gateway } from '../gateway';
import { GatewayError } from '../errors';
import type { ArchiveSource } from '../plugins/archive-source';
import { isValidSpace, optionsArgument } from '../model/checks';
import { AccessControl, EVERY_SPACE, type AccessOptions } from './access-control';
import {
  DashboardEvents,
  type DashboardEventsOptions,
  type DashboardEventSource,
} from './dashboard-events';
import { DashboardReplay, type DashboardReplayLimits } from './dashboard-replay';
import type { EventsRequest, EventsResponse } from './http-types';
import { requireJsonBody } from './json-write';
import { failureResponse } from './failure-response';
import { requestBody } from './read-body';
import { bodyText } from './request-body';
import { requestPath, safeDecode } from './request-path';

/**
 * What the dashboard reads of a gateway: configuration, health and system events, and replay dry
 * runs (with `replaySource`); no writes.
 */
export type DashboardGateway = DashboardEventSource &
  Pick<
    Gateway,
    | 'listSpaces'
    | 'listEventTypes'
    | 'listFunctions'
    | 'listSubscriptions'
    | 'health'
    | 'metrics'
    | 'explain'
  > &
  /** Needed only with `replaySource`. */
  Partial<Pick<Gateway, 'replay'>> & {
    /** Reports a failure no client may see the details of. @internal */
    reportError(error: Error): void;
  };

/** Options of the dashboard handler and its adapters. */
export interface DashboardOptions extends AccessOptions, DashboardEventsOptions {
  /**
   * A path prefix to strip before routing, for hosts that do not strip their mount path (Koa
   * without koa-mount, a plain node:http server). The page itself is at `<basePath>/`.
   * @default ''
   */
  basePath?: string;
  /**
   * An archive the page's replay form reads from: a dry run of a replay of the page's space over
   * a window (`POST <basePath>/api/spaces/<space>/replay` with `{ from, to, type? }`, ISO times)
   * answers what a replay would do (events read, deliveries per function, refusals) and sends
   * nothing, so a key with read scope may run it. Without it, the form says replay is not
   * configured and the endpoint answers `REPLAY_NOT_CONFIGURED` (404).
   * @default undefined (no replay form)
   * @example
   * ```ts
   * createDashboardHandler(gateway, { apiKeys, replaySource: new S3Archive({ bucket: 'events' }) });
   * ```
   */
  replaySource?: ArchiveSource;
  /**
   * How far one dry run may read (window, events, time); one runs at a time per space, four at
   * most per dashboard, another is answered `REPLAY_BUSY` (429).
   * @default { maxWindowMs: 86400000, maxEvents: 100000, timeoutMs: 10000 }
   * @example
   * ```ts
   * createDashboardHandler(gateway, { replaySource: archive, replayLimits: { maxEvents: 10_000 } });
   * ```
   */
  replayLimits?: DashboardReplayLimits;
}

/** A dashboard answer: a whole body, or a stream (the live feed) the adapter pipes. */
export interface DashboardResponse extends EventsResponse {
  /** Written after the headers until it ends; destroy it when the connection closes. */
  readonly stream?: Readable;
}

const ASSETS: Readonly<Record<string, string>> = {
  '/': 'text/html; charset=utf-8',
  '/dashboard.css': 'text/css; charset=utf-8',
  '/dashboard.js': 'text/javascript; charset=utf-8',
  '/favicon.svg': 'image/svg+xml',
};
const FILE: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/dashboard.css': 'dashboard.css',
  '/dashboard.js': 'dashboard.js',
  '/favicon.svg': 'favicon.svg',
};
/** The page runs only its own script and talks only to its own origin. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};
const EXPLAIN_BODY_LIMIT = 64 * 1024;
const REPLAY_BODY_LIMIT = 4 * 1024;

function json(status: number, value: unknown): DashboardResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...PAGE_HEADERS },
    body: JSON.stringify(value),
  };
}

function errorResponse(status: number, message: string): DashboardResponse {
  return json(status, { errors: [{ message }] });
}

/** The shipped assets: `assets/dashboard/` of the package, from lib/http/ or from dist/. */
function assetsDirectory(): string {
  let dir = __dirname;
  for (let up = 0; up < 4; up++) {
    const candidate = join(dir, 'assets', 'dashboard');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('Dashboard: its assets (assets/dashboard/) are missing from the package.');
}

/**
 * A read-only web dashboard of a gateway, framework-neutral: a request in, a response out. The
 * page (`/`, plain HTML, CSS and one small script shipped in the package) shows a space's
 * configuration as a graph (event types, subscriptions with their filters, functions, with
 * authorizers), its live events, per-function throughput, latency and error rate over the last
 * minutes, its dead letters with their reasons, the journal's state, an emit dry run
 * (`explain`), and, given a `replaySource`, a replay dry run of a window of the archive (bounded:
 * see `replayLimits`). The page's data comes from `/api/...`, behind the same API keys (read scope) as
 * the Configuration API: a key for some spaces sees only those, the gateway-wide details (store
 * and journal errors) only a key for every space; function secrets are never sent.
 *
 * Adapters: `createDashboardHandler` (node:http), `expressDashboardMiddleware`,
 * `koaDashboardMiddleware`. Call {@link Dashboard.close} when done with it.
 * @example
 * ```ts
 * const dashboard = new Dashboard(gateway, { apiKeys });
 * const response = await dashboard.handle({ method: 'GET', url: '/api/spaces', headers: { 'x-api-key': key } });
 * ```
 */
export class Dashboard {
  /** The dead letters, figures and live feeds behind the page. */
  readonly events: DashboardEvents;
  /** The replay dry runs of the page's form. */
  readonly replays: DashboardReplay;
  private readonly basePath: string;
  private readonly access: AccessControl;
  private readonly assets = new Map<string, Buffer>();

  constructor(
    private readonly gateway: DashboardGateway,
    options: DashboardOptions = {},
  ) {
    if (typeof gateway?.listEventTypes !== 'function' || typeof gateway.on !== 'function') {
      throw new TypeError('Dashboard: the first argument must be a gateway (from createGateway).');
    }
    optionsArgument(options, 'Dashboard');
    this.basePath = (options.basePath ?? '').replace(/\/$/, '');
    this.access = new AccessControl(options, (error) => gateway.reportError(error));
    const dir = assetsDirectory();
    for (const [path, file] of Object.entries(FILE)) {
      this.assets.set(path, readFileSync(join(dir, file)));
    }
    this.events = new DashboardEvents(gateway, options);
    this.replays = new DashboardReplay(gateway, options.replaySource, options.replayLimits);
  }

  /** Answers one request. Never rejects: every failure becomes an error response. */
  async handle(request: EventsRequest): Promise<DashboardResponse> {
    try {
      return await this.respond(request);
    } catch (error) {
      return failureResponse(
        error,
        'The dashboard',
        (e) => this.gateway.reportError(e),
        errorResponse,
      );
    }
  }

  /** Stops listening to the gateway and ends every live feed. */
  close(): void {
    this.events.close();
    this.replays.close();
  }

  private async respond(request: EventsRequest): Promise<DashboardResponse> {
    const located = requestPath(request.url, this.basePath);
    if ('status' in located) return errorResponse(located.status, located.message);
    const method = String(request.method).toUpperCase();
    const path = located.path;
    // Relative asset links need the trailing slash.
    if (path === '/' && this.basePath && located.url.pathname === this.basePath) {
      return { status: 308, headers: { location: `${this.basePath}/` } };
    }
    const asset = this.assets.get(path);
    if (asset) {
      if (method !== 'GET' && method !== 'HEAD') return errorResponse(405, 'Only GET is allowed.');
      // No data in the page: it asks for its key and reads everything from /api.
      return {
        status: 200,
        headers: { 'content-type': ASSETS[path], ...PAGE_HEADERS },
        ...(method === 'GET' ? { body: asset } : {}),
      };
    }
    const parts = path.split('/').filter(Boolean).map(safeDecode);
    if (parts[0] !== 'api' || parts.includes(null)) return errorResponse(404, 'Not found.');
    const [, first, space, what, ...rest] = parts as string[];
    if (method === 'GET' && first === 'status' && space === undefined) return this.status(request);
    if (method === 'GET' && first === 'spaces' && space === undefined) return this.spaces(request);
    if (first !== 'spaces' || space === undefined || rest.length > 0) {
      return errorResponse(404, 'Not found.');
    }
    if (!isValidSpace(space)) return errorResponse(400, 'Invalid space.');
    const allowed = await this.access.check(request, space, 'read');
    if ('refused' in allowed) return allowed.refused;
    if (what === 'explain') {
      if (method !== 'POST') return errorResponse(405, 'Only POST is allowed.');
      return this.explain(request, space);
    }
    if (what === 'replay') {
      if (method === 'GET') return json(200, this.replays.describe());
      if (method !== 'POST') return errorResponse(405, 'Only GET and POST are allowed.');
      return this.replay(request, space);
    }
    if (method !== 'GET') return errorResponse(405, 'Only GET is allowed.');
    if (what === undefined) return json(200, this.graph(space));
    if (what === 'stats') {
      return json(200, {
        now: Date.now(),
        functions: this.events.functionStats(space),
        deadLetters: this.events.deadLetters(space),
      });
    }
    if (what === 'events') return this.feed(space);
    return errorResponse(404, 'Not found.');
  }

  private graph(space: string) {
    const g = this.gateway;
    return {
      space,
      eventTypes: g.listEventTypes({ space }),
      // Without secrets, as the Configuration API reads them.
      functions: g.listFunctions({ space }),
      subscriptions: g.listSubscriptions({ space }),
    };
  }

  private feed(space: string): DashboardResponse {
    const stream = this.events.open(new Set([space]));
    if (!stream) return errorResponse(503, 'Too many live feeds are open; try again later.');
    return {
      status: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      },
      stream,
    };
  }

  private async spaces(request: EventsRequest): Promise<DashboardResponse> {
    const readable = await this.access.readableSpaces(request, () => this.gateway.listSpaces());
    return 'refused' in readable ? readable.refused : json(200, readable);
  }

  /**
   * Readiness and whether the store and the journal fail, for any reader; the gateway's figures
   * (the revision, which every space's writes move, the deliveries and journal entries of every
   * space), errors (they name addresses and paths), the functions deliveries wait for and the
   * intake plugins' and archives' figures only for a key for every space: a tenant's page must
   * not count or time what other spaces do.
   */
  private async status(request: EventsRequest): Promise<DashboardResponse> {
    const allowed = await this.access.check(request, undefined, 'read');
    if ('refused' in allowed) return allowed.refused;
    const trusted = !('refused' in (await this.access.check(request, EVERY_SPACE, 'read')));
    const h = this.gateway.health();
    const journal = h.journal && {
      failing: h.journal.lastError !== undefined,
      ...(trusted
        ? { entries: h.journal.entries, damaged: h.journal.damaged, waiting: h.journal.waiting }
        : {}),
      ...(trusted && h.journal.lastError ? { lastError: h.journal.lastError } : {}),
      ...(trusted && h.journal.waitingFor ? { waitingFor: h.journal.waitingFor } : {}),
    };
    return json(200, {
      ready: h.ready,
      store: h.store,
      watching: h.watching,
      storeFailing: h.lastError !== undefined,
      ...(trusted ? { revision: h.revision, pendingDeliveries: h.pendingDeliveries } : {}),
      ...(trusted && h.lastError ? { storeError: h.lastError } : {}),
      ...(journal ? { journal } : {}),
      ...(trusted ? { plugins: this.plugins() } : {}),
    });
  }

  /** Each intake plugin (archives among them): its counts and what it says of itself. */
  private plugins() {
    return this.gateway.metrics().plugins.map((p) => ({
      name: p.name,
      events: p.events,
      refused: p.refused,
      failed: p.failed,
      ...(p.stats ? { stats: p.stats } : {}),
    }));
  }

  /** A dry run of emit: which subscriptions would get the event, and why not the others. */
  private async explain(request: EventsRequest, space: string): Promise<DashboardResponse> {
    const value = await jsonBody(request, EXPLAIN_BODY_LIMIT);
    if (value === undefined) return errorResponse(400, 'The body is not valid JSON.');
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return errorResponse(400, 'The body must be a JSON object: { event, method?, path? }.');
    }
    const { event, method, path } = value as Record<string, unknown>;
    const input = {
      event,
      space,
      ...(typeof method === 'string' && method ? { method } : {}),
      ...(typeof path === 'string' && path ? { path } : {}),
    };
    return json(200, this.gateway.explain(input));
  }

  /** A dry run of a replay of the space's window; its typed errors keep their `code`. */
  private async replay(request: EventsRequest, space: string): Promise<DashboardResponse> {
    const value = await jsonBody(request, REPLAY_BODY_LIMIT);
    if (value === undefined) return errorResponse(400, 'The body is not valid JSON.');
    try {
      return json(200, await this.replays.dryRun(space, value));
    } catch (error) {
      if (error instanceof GatewayError && (error.status < 500 || error.status === 503)) {
        return json(error.status, { errors: [{ message: error.message, code: error.code }] });
      }
      throw error;
    }
  }
}

/** A JSON request body (parsed by the host or here), or undefined when it is not JSON. */
async function jsonBody(request: EventsRequest, limit: number): Promise<unknown> {
  requireJsonBody(request.headers);
  const body = await requestBody(request, limit);
  if (body.parsed !== undefined) return body.parsed;
  try {
    return JSON.parse(bodyText(body));
  } catch {
    return undefined;
  }
}
