import { BackpressureError, GatewayError, InvocationError, ValidationError } from '../errors';
import type { CloudEvent } from '../events/cloudevent';
import type { Gateway } from '../gateway';
import { IDENTIFIER } from '../model/checks';
import { HTTP_REQUEST_EVENT } from '../model/event-type';
import { classifyRequest } from './classify-request';
import { corsResponseHeaders, originAllowed, preflightHeaders } from './cors-headers';
import { httpRequestEvent } from './http-request-event';
import type { EventsApiOptions, EventsRequest, EventsResponse } from './http-types';
import { BodyTooLargeError, readBody } from './read-body';
import type { RequestBody } from './request-body';
import { toHttpResponse } from './sync-response';

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

function errorResponse(status: number, message: string): EventsResponse {
  return { status, headers: { ...JSON_TYPE }, body: JSON.stringify({ errors: [{ message }] }) };
}

const header = (request: EventsRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * The Events API, framework-neutral: a request in, a response out. CloudEvents posted to it are
 * emitted; plain requests become `http.request` events and are answered by the function of the
 * matching sync subscription (202 when only async subscriptions match). Event types' authorizers
 * run first; CORS configurations answer preflights and decorate responses. Adapters for
 * node:http, Express and Koa wrap it.
 */
export class EventsApi {
  private readonly bodyLimit: number;
  private readonly basePath: string;

  constructor(
    private readonly gateway: Gateway,
    private readonly options: EventsApiOptions = {},
  ) {
    this.bodyLimit = options.bodyLimit ?? 1024 * 1024;
    this.basePath = (options.basePath ?? '').replace(/\/$/, '');
    if (!Number.isInteger(this.bodyLimit) || this.bodyLimit < 0) {
      throw new ValidationError('Events API: "bodyLimit" must be a non-negative integer.');
    }
  }

  /** Answers one request. Never rejects: every failure becomes an error response. */
  async handle(request: EventsRequest): Promise<EventsResponse> {
    try {
      return await this.respond(request);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return errorResponse(413, error.message);
      if (error instanceof GatewayError) return errorResponse(error.status, error.message);
      return errorResponse(
        500,
        `The gateway failed: ${(error as Error)?.message ?? String(error)}`,
      );
    }
  }

  private async respond(request: EventsRequest): Promise<EventsResponse> {
    const url = new URL(request.url, 'http://gateway');
    let path = url.pathname;
    if (this.basePath) {
      if (path !== this.basePath && !path.startsWith(this.basePath + '/')) {
        return errorResponse(404, `Not found: the Events API is under ${this.basePath}.`);
      }
      path = path.slice(this.basePath.length) || '/';
    }
    const method = request.method.toUpperCase();
    const space =
      typeof this.options.space === 'function'
        ? this.options.space(request)
        : (this.options.space ?? this.gateway.options.space);
    if (typeof space !== 'string' || space.length < 3 || !IDENTIFIER.test(space)) {
      return errorResponse(400, `Invalid space ${JSON.stringify(space)} for this request.`);
    }
    const origin = header(request, 'origin');

    const preflightMethod = header(request, 'access-control-request-method');
    if (method === 'OPTIONS' && origin && preflightMethod) {
      const cors = this.gateway.corsFor(space, preflightMethod.toUpperCase(), path);
      if (cors) {
        if (!originAllowed(cors, origin))
          return errorResponse(
            403,
            `Origin ${origin} is not allowed by CORS configuration "${cors.corsId}".`,
          );
        return { status: 204, headers: preflightHeaders(cors, origin) };
      }
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
    const body = await this.body(request);
    const classified = classifyRequest(request.headers, body);
    if (classified.kind === 'batch') {
      const events: CloudEvent[] = [];
      for (const event of classified.events) {
        const authorized = await this.authorize(space, event, request, path, method);
        if (authorized.refused) return authorized.refused;
        events.push(authorized.event);
      }
      let accepted = 0;
      for (const event of events) {
        try {
          await this.gateway.emit(event, { space, path, method });
          accepted++;
        } catch (error) {
          if (error instanceof BackpressureError) {
            return errorResponse(
              503,
              `${error.message} ${accepted} of the batch's ${classified.events.length} events were accepted before it.`,
            );
          }
          throw error;
        }
      }
      return { status: 202, headers: {} };
    }
    let event: CloudEvent;
    let sync: { functionId: string; params: Record<string, string> } | undefined;
    if (classified.kind === 'event') {
      event = classified.event;
      sync = this.gateway.syncRoute(space, event.type, method, path);
    } else {
      sync = this.gateway.syncRoute(space, HTTP_REQUEST_EVENT, method, path);
      event = httpRequestEvent(method, path, url, request.headers, body, sync?.params ?? {});
    }
    const authorization = await this.authorize(space, event, request, path, method);
    if (authorization.refused) return authorization.refused;
    const authorized = authorization.event;
    await this.gateway.emit(authorized, { space, path, method });
    if (!sync) return { status: 202, headers: {} };
    let result: unknown;
    try {
      result = await this.gateway.invoke({
        space,
        functionId: sync.functionId,
        payload: authorized,
      });
    } catch (error) {
      const message = error instanceof InvocationError ? error.message : String(error);
      return errorResponse(500, `Function call failed: ${message}`);
    }
    const response = toHttpResponse(result);
    if (typeof response === 'string') {
      return errorResponse(
        500,
        `Function call failed: function "${sync.functionId}" answered a malformed response: ${response}.`,
      );
    }
    return response;
  }

  /**
   * Runs the event type's authorizer, if it has one. Resolves with the event (with the
   * authorization attached as the `eventgatewayauthorization` extension, JSON text) or with the
   * refusal's response.
   */
  private async authorize(
    space: string,
    event: CloudEvent,
    request: EventsRequest,
    path: string,
    method: string,
  ): Promise<{ event: CloudEvent; refused?: undefined } | { refused: EventsResponse }> {
    const authorizerId = this.gateway.findEventType(space, event.type)?.authorizerId;
    if (!authorizerId) return { event };
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    let answer: unknown;
    try {
      answer = await this.gateway.invoke({
        space,
        functionId: authorizerId,
        payload: { event, request: { method, path, headers } },
      });
    } catch (error) {
      return {
        refused: errorResponse(
          500,
          `Authorizer function "${authorizerId}" failed: ${(error as Error).message}`,
        ),
      };
    }
    const result = (answer ?? {}) as { authorization?: unknown; error?: { message?: unknown } };
    if (
      result.authorization !== undefined &&
      typeof result.authorization === 'object' &&
      result.authorization !== null
    ) {
      return {
        event: { ...event, eventgatewayauthorization: JSON.stringify(result.authorization) },
      };
    }
    const message =
      typeof result.error?.message === 'string'
        ? result.error.message
        : `Authorizer function "${authorizerId}" refused the event.`;
    return { refused: errorResponse(403, message) };
  }

  private async body(request: EventsRequest): Promise<RequestBody> {
    const length = Number(header(request, 'content-length'));
    if (request.stream && !request.stream.readableEnded && request.parsedBody === undefined) {
      return {
        raw: await readBody(
          request.stream,
          this.bodyLimit,
          Number.isFinite(length) ? length : undefined,
        ),
      };
    }
    const parsed = request.parsedBody;
    if (parsed === undefined) return { raw: Buffer.alloc(0) };
    if (Buffer.isBuffer(parsed)) {
      if (parsed.length > this.bodyLimit) throw new BodyTooLargeError(this.bodyLimit);
      return { raw: parsed };
    }
    if (typeof parsed === 'string') {
      if (Buffer.byteLength(parsed) > this.bodyLimit) throw new BodyTooLargeError(this.bodyLimit);
      return { raw: Buffer.from(parsed) };
    }
    return { parsed };
  }
}
