import { optionsArgument } from '../../model/checks';
import type { Pool } from 'undici';
import { InvocationError } from '../../errors';
import type { CloudEvent } from '../../model/cloud-event';
import { isAccepted } from '../../events/event-data';
import { describeError } from '../../model/describe-error';
import type { FunctionRecord } from '../../model/function';
import { hideSecrets, redactUrl } from '../../model/function-secrets';
import { OutboundPolicies } from '../../model/outbound-policies';
import type { OutboundCheck, OutboundPolicy } from '../../model/outbound-policy';
import { urlPort } from '../../model/host-name';
import type { InvocationContext, Provider } from '../provider';
import { parseRetryAfter } from '../backoff';
import { abortHook } from './abort-hook';
import { HttpCall, type HttpAnswer, type HttpCallFailure } from './http-call';
import { guardedLookup } from './guarded-lookup';
import { BoundedCache } from './bounded-cache';

/**
 * Most connection pools kept (one per outbound check and origin), the least recently used closed
 * first (gracefully: its requests in flight finish). Some 20 KB each: unbounded, a tenant
 * rewriting a function's host or port would grow the heap for good.
 */
const MAX_POOLS = 1024;

/** Options of {@link HttpProvider}. */
export interface HttpProviderOptions {
  /**
   * Most connections per origin (one keep-alive pool per origin). Deliveries to one function are
   * also capped by the gateway's `functionConcurrency`, so one slow function never holds them all.
   * @default 256
   */
  connections?: number;
  /**
   * How long an idle keep-alive connection is kept, in ms.
   * @default 30000
   */
  keepAliveTimeout?: number;
  /**
   * Largest answer read, in bytes; a larger one fails the attempt for good without being read.
   * @default 6291456 (6 MiB)
   */
  maxResponseBytes?: number;
  /**
   * Where functions may be reached, checked again at connect time: a policy, or the gateway's
   * policies (which also hold tenants' functions to `tenantOutbound` and protect the gateway's own
   * endpoints).
   * @default the default policy
   */
  outbound?: OutboundPolicy | OutboundPolicies;
}

type Undici = typeof import('undici');
let undici: Undici | undefined;
// undici costs ~150 ms to load: only gateways that deliver over HTTP pay for it.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
const loadUndici = (): Undici => (undici ??= require('undici') as Undici);

/** Statuses that can succeed later: timeouts, too early, too many requests, server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** Where one function's requests go: computed once per function record. */
interface Target {
  readonly pool: Pool;
  /** The pool's key in the cache: its outbound check and origin. */
  readonly key: string;
  /** Path and query. */
  readonly path: string;
  /** The URL for messages: credentials and query hidden. */
  readonly shown: string;
  /** `authorization` for credentials in the URL (sent as Basic auth, never dropped). */
  readonly authorization?: string;
  /** The protected endpoints' version it was checked against: a newer one checks again. */
  readonly version: number;
}

const CLOUDEVENTS_JSON = 'application/cloudevents+json; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The `http` provider: POSTs the event as structured CloudEvents JSON to `provider.url` over a
 * keep-alive pool per origin, and resolves with the response body (parsed when it is JSON). A
 * timed-out or aborted attempt releases its connection at once; answers larger than
 * `maxResponseBytes` are refused without being read; every connection is checked against the
 * outbound policy.
 */
export class HttpProvider implements Provider {
  /** One pool per outbound check (host, or a tenant space's) and origin, at most MAX_POOLS. */
  private readonly pools = new BoundedCache<string, Pool>(MAX_POOLS, (pool) => {
    pool.close().catch(() => undefined);
  });
  /** A number per outbound check, for the pools' keys. */
  private readonly checkIds = new WeakMap<OutboundCheck, number>();
  private nextCheckId = 0;
  private readonly targets = new WeakMap<FunctionRecord, Target | InvocationError>();
  /** Each accepted event's JSON: an event fanned out to many functions is serialised once. */
  private readonly bodies = new WeakMap<object, string>();
  private readonly maxResponseBytes: number;
  private readonly policies: OutboundPolicies;

  constructor(private readonly options: HttpProviderOptions = {}) {
    optionsArgument(options, 'new HttpProvider(options)');
    this.maxResponseBytes = options.maxResponseBytes ?? 6 * 1024 * 1024;
    this.policies =
      options.outbound instanceof OutboundPolicies
        ? options.outbound
        : new OutboundPolicies({ outbound: options.outbound });
  }

  invoke(fn: FunctionRecord, event: CloudEvent, context: InvocationContext): Promise<unknown> {
    const target = this.target(fn);
    if (target instanceof InvocationError) return Promise.reject(target);
    const headers: Record<string, string> = {};
    const body = this.body(event, headers);
    if (target.authorization) headers.authorization = target.authorization;
    const traced = context.traceparent !== undefined;
    if (traced) traceHeaders(context, headers);
    return new Promise((resolve, reject) => {
      const call = new HttpCall(this.maxResponseBytes, abortHook(context), (failure, answer) => {
        if (failure) reject(this.failure(fn, target, failure));
        else {
          // The attempt's span reports the status (a failure's error carries its own).
          if (traced) context.statusCode = (answer as HttpAnswer).status;
          try {
            resolve(answered(fn, answer as HttpAnswer));
          } catch (error) {
            reject(error);
          }
        }
      });
      target.pool.dispatch(
        {
          path: target.path,
          method: 'POST',
          headers,
          body,
          headersTimeout: context.timeout,
          bodyTimeout: context.timeout,
        },
        call,
      );
    });
  }

  /** Destroys the pools: called once the gateway has settled (drained or given up on) every delivery. */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((pool) => pool.destroy()));
  }

  /** The request body and its content type, for an accepted event or any `invoke` payload. */
  private body(payload: unknown, headers: Record<string, string>): string | undefined {
    if (payload === undefined) return undefined;
    const cacheable = isAccepted(payload);
    let body = cacheable ? this.bodies.get(payload as object) : undefined;
    if (body === undefined) {
      body = JSON.stringify(payload);
      if (cacheable) this.bodies.set(payload as object, body);
    }
    headers['content-type'] =
      cacheable && (payload as { specversion?: unknown }).specversion !== undefined
        ? CLOUDEVENTS_JSON
        : JSON_TYPE;
    return body;
  }

  private failure(fn: FunctionRecord, target: Target, failure: HttpCallFailure): InvocationError {
    return failure.kind === 'too-large'
      ? this.tooLarge(fn, failure.detail)
      : connectionFailure(fn, target.shown, failure.error);
  }

  private tooLarge(fn: FunctionRecord, detail: string): InvocationError {
    return new InvocationError(
      `Function "${fn.functionId}" answered more than maxResponseBytes (${this.maxResponseBytes} bytes; ${detail}); the answer was not read.`,
      { retryable: false, resource: 'function', id: fn.functionId, space: fn.space },
    );
  }

  private target(fn: FunctionRecord): Target | InvocationError {
    let target = this.targets.get(fn);
    if (
      !target ||
      (!(target instanceof InvocationError) &&
        (target.version !== this.version() || target.pool.closed))
    ) {
      this.targets.set(fn, (target = this.makeTarget(fn)));
    } else if (!(target instanceof InvocationError)) {
      this.pools.get(target.key); // used now: the last to be closed
    }
    return target;
  }

  private version(): number {
    return this.policies.protectedEndpoints.version;
  }

  private makeTarget(fn: FunctionRecord): Target | InvocationError {
    const raw = String(fn.provider.url);
    const shown = redactUrl(raw);
    const refuse = (problem: string) =>
      new InvocationError(`Function "${fn.functionId}" cannot be called at ${shown}: ${problem}.`, {
        retryable: false,
        resource: 'function',
        id: fn.functionId,
        space: fn.space,
      });
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return refuse('not a valid URL');
    }
    const version = this.version();
    // Checked again here: the record may come from a store written by another instance or policy.
    // An IP literal is checked here only (net.connect does not look it up), a name at each connect.
    const check = this.policies.forFunction(fn);
    const problem = check.urlProblem(url);
    if (problem) return refuse(problem);
    let checkId = this.checkIds.get(check);
    if (checkId === undefined) this.checkIds.set(check, (checkId = this.nextCheckId++));
    const key = `${checkId} ${url.origin}`;
    let pool = this.pools.get(key);
    if (!pool) {
      const { Pool } = loadUndici();
      pool = this.pools.set(
        key,
        new Pool(url.origin, {
          connections: this.options.connections ?? 256,
          keepAliveTimeout: this.options.keepAliveTimeout ?? 30_000,
          connect: { lookup: guardedLookup(check, urlPort(url)) },
        }),
      );
    }
    const authorization =
      url.username || url.password
        ? 'Basic ' +
          Buffer.from(
            `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
          ).toString('base64')
        : undefined;
    return {
      pool,
      key,
      path: url.pathname + url.search,
      shown,
      version,
      ...(authorization ? { authorization } : {}),
    };
  }
}

/** The attempt's trace context as W3C headers (the event carries it as extensions too). */
function traceHeaders(context: InvocationContext, headers: Record<string, string>): void {
  headers.traceparent = context.traceparent as string;
  if (context.tracestate) headers.tracestate = context.tracestate;
}

/** The function's answer as its result: the body (parsed when JSON), or a failure for a non-2xx. */
function answered(
  fn: FunctionRecord,
  { status, text, contentType, retryAfter }: HttpAnswer,
): unknown {
  if (status < 200 || status >= 300) {
    // An answer may echo the request's credentials or query: they never reach the message.
    const excerpt = hideSecrets(text, fn, 200) + (text.length > 200 ? '…' : '');
    throw new InvocationError(
      `Function "${fn.functionId}" answered HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`,
      {
        retryable: isRetryableStatus(status),
        statusCode: status,
        retryAfter: parseRetryAfter(retryAfter),
        resource: 'function',
        id: fn.functionId,
        space: fn.space,
      },
    );
  }
  if (text === '') return undefined;
  if (/[/+]json\b/.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function connectionFailure(fn: FunctionRecord, shown: string, error: unknown): InvocationError {
  const code = (() => {
    try {
      const value = (error as { code?: unknown })?.code;
      return typeof value === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  })();
  return new InvocationError(
    `Function "${fn.functionId}" could not be reached at ${shown}: ${describeError(error)}${code ? ` (${code})` : ''}`,
    {
      // A connection the outbound policy refused will be refused again.
      retryable: code !== 'EOUTBOUNDDENIED',
      cause: error,
      resource: 'function',
      id: fn.functionId,
      space: fn.space,
    },
  );
}
