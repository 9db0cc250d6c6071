import type { Agent } from 'undici';
import { InvocationError } from '../../errors';
import type { CloudEvent } from '../../events/cloudevent';
import type { FunctionRecord } from '../../model/function';
import type { InvocationContext, Provider } from '../provider';
import { parseRetryAfter } from '../backoff';

/** Options of {@link HttpProvider}. */
export interface HttpProviderOptions {
  /**
   * Most connections per origin (undici keeps one keep-alive pool per origin).
   * @default 256
   */
  connections?: number;
  /**
   * How long an idle keep-alive connection is kept, in ms.
   * @default 30000
   */
  keepAliveTimeout?: number;
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

/**
 * The `http` provider: POSTs the event as structured CloudEvents JSON to `provider.url` over a
 * keep-alive pool per origin, and resolves with the response body (parsed when it is JSON).
 */
export class HttpProvider implements Provider {
  private agent: Agent | undefined;
  /** Each event's JSON, so that an event fanned out to many functions is serialised once. */
  private readonly bodies = new WeakMap<CloudEvent, string>();

  constructor(private readonly options: HttpProviderOptions = {}) {}

  async invoke(
    fn: FunctionRecord,
    event: CloudEvent,
    context: InvocationContext,
  ): Promise<unknown> {
    const { request, Agent } = loadUndici();
    this.agent ??= new Agent({
      connections: this.options.connections ?? 256,
      keepAliveTimeout: this.options.keepAliveTimeout ?? 30_000,
    });
    const url = fn.provider.url as string;
    let body = this.bodies.get(event);
    if (body === undefined) this.bodies.set(event, (body = JSON.stringify(event)));
    let response;
    try {
      response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
        body,
        dispatcher: this.agent,
        // No `signal`: an AbortSignal per request costs undici about a quarter of its throughput
        // here. The dispatcher enforces the timeout itself, and undici's own timeouts free the
        // connection; close() destroys whatever is still in flight.
        headersTimeout: context.timeout,
        bodyTimeout: context.timeout,
      });
    } catch (error) {
      throw connectionFailure(fn, url, error);
    }
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw connectionFailure(fn, url, error);
    }
    const status = response.statusCode;
    if (status < 200 || status >= 300) {
      const excerpt = text.length > 200 ? text.slice(0, 200) + '…' : text;
      throw new InvocationError(
        `Function "${fn.functionId}" answered HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`,
        {
          retryable: isRetryableStatus(status),
          statusCode: status,
          retryAfter: parseRetryAfter(response.headers['retry-after']),
          resource: 'function',
          id: fn.functionId,
          space: fn.space,
        },
      );
    }
    const type = String(response.headers['content-type'] ?? '');
    if (text === '') return undefined;
    if (/[/+]json\b/.test(type)) {
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    }
    return text;
  }

  /** Destroys the pool: called once the gateway has settled (drained or given up on) every delivery. */
  async close(): Promise<void> {
    const agent = this.agent;
    this.agent = undefined;
    await agent?.destroy();
  }
}

function connectionFailure(fn: FunctionRecord, url: string, error: unknown): InvocationError {
  const err = error as Error & { code?: string };
  const code = err.code ? ` (${err.code})` : '';
  return new InvocationError(
    `Function "${fn.functionId}" could not be reached at ${url}: ${err.message}${code}`,
    {
      retryable: true,
      cause: error,
      resource: 'function',
      id: fn.functionId,
      space: fn.space,
    },
  );
}
