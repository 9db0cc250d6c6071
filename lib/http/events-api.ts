import { GatewayError, InvocationError, ValidationError } from '../errors';
import { invalidEvent, type CloudEvent } from '../model/cloud-event';
import type { Admitted } from '../pipeline/screen';
import type { AcceptedEvent } from '../plugins/accepted-event';
import { AUTHORIZATION } from '../events/gateway-extensions';
import { authorizeEvent } from '../events/authorize-event';
import { isValidSpace, optionsArgument } from '../model/checks';
import { showValue } from '../model/describe-error';
import { HTTP_REQUEST_EVENT } from '../model/event-type';
import { canonicalPath } from '../model/paths';
import { AccessControl } from './access-control';
import { classifyRequest } from './classify-request';
import { requestPath } from './request-path';
import { corsResponseHeaders, originAllowed, preflightHeaders } from './cors-headers';
import type { EventsGateway, SyncRoute } from './events-gateway';
import { flatHeaders, headerValue, redactHeaders } from './headers';
import { httpRequestEvent } from './http-request-event';
import type { EventsApiOptions, EventsRequest, EventsResponse } from './http-types';
import { failureResponse } from './failure-response';
import { requestBody } from './read-body';
import { toHttpResponse } from './sync-response';
import { acceptTraceOf } from '../tracing/accept-trace';
import type { TraceCarrier } from '../tracing/traceparent';

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
/** Event Gateway 0.9's answer when a function fails: details go to logs, never to the client. */
const FUNCTION_FAILED = 'Function call failed. Please check logs.';
/** Longest Origin header considered (a real origin is a scheme, a host and a port). */
const MAX_ORIGIN_LENGTH = 1024;
/** Longest a batch holds the event loop between two of its events, in ms (as deliveries do). */
const BATCH_TURN_MS = 10;
/** Why an event's acceptance span ended without a dispatch: its request was answered first. */
const NOT_DISPATCHED = new Error('the request was answered before the event was dispatched');

function errorResponse(status: number, message: string): EventsResponse {
  return { status, headers: { ...JSON_TYPE }, body: JSON.stringify({ errors: [{ message }] }) };
}

/** The outcome of an event type's authorizer for one request. */
type Authorized = { readonly authorization?: string } | { readonly refused: EventsResponse };

/**
 * The Events API, framework-neutral: a request in, a response out. CloudEvents posted to it are
 * emitted; plain requests become `http.request` events and are answered by the function of the
 * matching sync subscription (202 when only async subscriptions match). Event types' authorizers
 * run first; CORS configurations answer preflights and decorate responses. Adapters for
 * node:http, Express and Koa wrap it.
 *
 * Clients are untrusted: they cannot post `eventgateway.*` events or an authorization of their
 * own, and a failure answers 500 without details (those go to `gateway.error` and system events).
 */
export class EventsApi {
  private readonly bodyLimit: number;
  private readonly basePath: string;
  private readonly maxBatchSize: number;
  private readonly access: AccessControl;

  constructor(
    private readonly gateway: EventsGateway,
    private readonly options: EventsApiOptions = {},
  ) {
    if (
      typeof gateway !== 'object' ||
      gateway === null ||
      typeof gateway.emit !== 'function' ||
      typeof gateway.callFunction !== 'function'
    ) {
      throw new TypeError(
        'Events API: the first argument must be a gateway (from createGateway), got ' +
          (gateway === null ? 'null' : typeof gateway) +
          '.',
      );
    }
    optionsArgument(options, 'Events API');
    this.bodyLimit = options.bodyLimit ?? 1024 * 1024;
    this.maxBatchSize = options.maxBatchSize ?? 100;
    this.basePath = (options.basePath ?? '').replace(/\/$/, '');
    this.access = new AccessControl(options, (error) => gateway.reportError(error));
    if (!Number.isSafeInteger(this.bodyLimit) || this.bodyLimit < 0) {
      throw new ValidationError('Events API: "bodyLimit" must be a non-negative integer.');
    }
    if (!Number.isSafeInteger(this.maxBatchSize) || this.maxBatchSize <= 0) {
      throw new ValidationError('Events API: "maxBatchSize" must be a positive integer.');
    }
  }

  /** Answers one request. Never rejects: every failure becomes an error response. */
  async handle(request: EventsRequest): Promise<EventsResponse> {
    try {
      return await this.respond(request);
    } catch (error) {
      // Client errors and overload say what is wrong; internal failures say nothing to the client.
      return failureResponse(
        error,
        'The Events API',
        (e) => this.gateway.reportError(e),
        errorResponse,
      );
    }
  }

  private async respond(request: EventsRequest): Promise<EventsResponse> {
    const located = requestPath(request.url, this.basePath);
    if ('status' in located) return errorResponse(located.status, located.message);
    const { url } = located;
    const path = canonicalPath(located.path);
    const method = String(request.method).toUpperCase();
    const space =
      typeof this.options.space === 'function'
        ? this.options.space(request)
        : (this.options.space ?? this.gateway.options.space);
    if (!isValidSpace(space)) {
      return errorResponse(400, `Invalid space ${showValue(space)} for this request.`);
    }
    const rawOrigin = headerValue(request.headers, 'origin');
    const origin = rawOrigin && rawOrigin.length <= MAX_ORIGIN_LENGTH ? rawOrigin : undefined;

    const preflightMethod = headerValue(request.headers, 'access-control-request-method');
    if (method === 'OPTIONS' && rawOrigin && preflightMethod) {
      const cors = this.gateway.corsFor(space, preflightMethod.toUpperCase(), path);
      if (cors) {
        if (!origin || !originAllowed(cors, origin))
          return errorResponse(
            403,
            `The origin is not allowed by CORS configuration "${cors.corsId}".`,
          );
        return { status: 204, headers: preflightHeaders(cors, origin) };
      }
    }

    if (this.access.enabled) {
      // Before the body is read: a refused request costs nothing more.
      const allowed = await this.access.check(request, space, 'emit');
      if ('refused' in allowed) return allowed.refused;
    }
    const response = await this.answer(request, space, method, path, url);
    if (origin) {
      const cors = this.gateway.corsFor(space, method, path);
      if (cors && originAllowed(cors, origin))
        Object.assign(response.headers, corsResponseHeaders(cors, origin));
    }
    return response;
  }

  private async answer(
    request: EventsRequest,
    space: string,
    method: string,
    path: string,
    url: URL,
  ): Promise<EventsResponse> {
    const body = await requestBody(request, this.bodyLimit);
    const turn = new TurnClock();
    const classified = classifyRequest(request.headers, body, this.maxBatchSize);
    // One authorizer call per event type and request, however many events a batch holds.
    const authorizations = new Map<string, Promise<Authorized>>();
    const authorize = (event: CloudEvent) => {
      let result = authorizations.get(event.type);
      if (!result) {
        result = this.authorize(space, event, request, path, method);
        authorizations.set(event.type, result);
      }
      return result;
    };
    const where = { space, path, method };
    // Traced: the request's trace context (`traceparent`, `tracestate`) is the events' parent.
    const trace = this.gateway.tracing && request.headers;
    if (classified.kind === 'batch') {
      // Every event is accepted (parsed once, with the gateway's limits) and authorized, then the
      // whole batch passes the plugins, before any of it is dispatched: one refusal refuses all.
      const posted = classified.events.map((input, i) =>
        this.acceptBatchItem(input, i, where, trace),
      );
      try {
        const authorized: AcceptedEvent[] = [];
        for (const accepted of posted) {
          const outcome = await authorize(accepted.event);
          if ('refused' in outcome) return outcome.refused;
          authorized.push(accepted.withExtension(AUTHORIZATION, outcome.authorization));
        }
        return await this.dispatchBatch(await this.gateway.screen(authorized), turn);
      } finally {
        // Spans of events the request gave up on before their dispatch (the others are ended).
        if (trace) for (const one of posted) acceptTraceOf(one)?.failed(NOT_DISPATCHED);
      }
    }
    let accepted: AcceptedEvent;
    let sync: SyncRoute | undefined;
    if (classified.kind === 'event') {
      accepted = this.gateway.accept(classified.event, where, 'http', trace);
      sync = this.gateway.syncRoute(space, accepted.event.type, method, path);
    } else {
      sync = this.gateway.syncRoute(space, HTTP_REQUEST_EVENT, method, path);
      const headers = this.access.withoutKeyHeaders(request.headers);
      const made = httpRequestEvent(method, path, url, headers, body, sync?.params ?? {});
      accepted = this.gateway.accept(made, where, 'http', trace);
    }
    try {
      return await this.answerOne(accepted, sync, authorize, turn, space);
    } finally {
      if (trace) acceptTraceOf(accepted)?.failed(NOT_DISPATCHED);
    }
  }

  /** Authorizes, screens and dispatches one event, then answers with its sync function's result. */
  private async answerOne(
    accepted: AcceptedEvent,
    sync: SyncRoute | undefined,
    authorize: (event: CloudEvent) => Promise<Authorized>,
    turn: TurnClock,
    space: string,
  ): Promise<EventsResponse> {
    const authorized = await authorize(accepted.event);
    if ('refused' in authorized) return authorized.refused;
    // Screened first: a sync function gets the event as the plugins let it through.
    const [admitted] = await this.gateway.screen([
      accepted.withExtension(AUTHORIZATION, authorized.authorization),
    ]);
    // A large event's parse and its filters' matching each take a few ms: not in one turn.
    await turn.giveBackIfHeld();
    await this.gateway.dispatch(admitted);
    const { event } = admitted;
    if (!sync) return { status: 202, headers: {} };
    let result: unknown;
    try {
      result = await this.gateway.callFunction(space, sync.functionId, event);
    } catch (error) {
      // The failure's details reach the function.invocationFailed system event, not the client.
      if (!(error instanceof InvocationError)) throw error;
      return errorResponse(500, FUNCTION_FAILED);
    }
    const response = toHttpResponse(result, sync.writer);
    if (typeof response === 'string') {
      this.gateway.reportError(
        new InvocationError(
          `Function "${sync.functionId}" answered a malformed response: ${response}.`,
          { retryable: false, resource: 'function', id: sync.functionId, space },
        ),
      );
      return errorResponse(500, FUNCTION_FAILED);
    }
    return response;
  }

  /** Accepts a batch's event `index`; a validation failure says which event it was. */
  private acceptBatchItem(
    input: unknown,
    index: number,
    where: { space: string; method: string; path: string },
    trace: TraceCarrier | undefined,
  ): AcceptedEvent {
    try {
      return this.gateway.accept(input, where, 'batch', trace);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      throw invalidEvent(
        `event ${index} of the batch: ${error.message.replace(/^CloudEvent doesn't validate: /, '')}`,
      );
    }
  }

  /** Dispatches a screened batch in order; a refusal says how many were accepted before it. */
  private async dispatchBatch(
    admitted: readonly Admitted[],
    turn: TurnClock,
  ): Promise<EventsResponse> {
    let accepted = 0;
    for (const one of admitted) {
      // Each event's filters may take up to maxFilterWork (a few ms): a batch of such events
      // gives the event loop back every BATCH_TURN_MS instead of holding it for all of them.
      await turn.giveBackIfHeld();
      try {
        await this.gateway.dispatch(one);
        accepted++;
      } catch (error) {
        // Refused at this event (the queue full, its filters too costly): the client must know
        // that those before it were accepted.
        if (error instanceof GatewayError && (error.status === 503 || accepted > 0)) {
          return errorResponse(
            error.status,
            `${error.message} ${accepted} of the batch's ${admitted.length} events were accepted before it.`,
          );
        }
        throw error;
      }
    }
    return { status: 202, headers: {} };
  }

  /**
   * Runs the event type's authorizer (see {@link authorizeEvent}) with the request, its
   * credentials redacted in system events: the authorization to attach, or the refusal's response.
   */
  private async authorize(
    space: string,
    event: CloudEvent,
    request: EventsRequest,
    path: string,
    method: string,
  ): Promise<Authorized> {
    const outcome = await authorizeEvent(this.gateway, space, event, () => {
      // Without the API key: it is the gateway's credential (it may hold other spaces), and an
      // authorizer may be a tenant's function.
      const headers = flatHeaders(this.access.withoutKeyHeaders(request.headers));
      return {
        request: { method, path, headers },
        shown: { method, path, headers: redactHeaders(headers) },
      };
    });
    if ('refused' in outcome) return { refused: errorResponse(403, outcome.refused) };
    if ('failed' in outcome) return { refused: errorResponse(500, FUNCTION_FAILED) };
    return outcome;
  }
}

/** Gives the event loop back once a request has held it for {@link BATCH_TURN_MS}. */
class TurnClock {
  private started = performance.now();

  async giveBackIfHeld(): Promise<void> {
    if (performance.now() - this.started <= BATCH_TURN_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.started = performance.now();
  }
}
