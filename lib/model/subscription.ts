import { Checks, type Metadata } from './checks';
import { ValidationError } from '../errors';
import { describeError } from './describe-error';
import { compilePattern, type EventPattern } from './event-pattern';
import { isWildcardType } from './event-type';
import { RESERVED_PREFIX } from './system-events';
import { HTTP_METHODS, pathEscape, routeProblem, type HttpMethod } from './paths';

/**
 * `async`: every subscriber receives the event (fan-out). `sync`: one function answers the HTTP
 * request the event came from.
 */
export type SubscriptionType = 'async' | 'sync';

/** A subscription: deliver events of one type (at one HTTP method and path) to one function. */
export interface SubscriptionRecord {
  readonly space: string;
  /** Derived from the other fields, exactly as Event Gateway 0.9 derived it. */
  readonly subscriptionId: string;
  readonly type: SubscriptionType;
  readonly eventType: string;
  readonly functionId: string;
  readonly path: string;
  readonly method: HttpMethod;
  readonly metadata?: Metadata;
  /** Only events matching this pattern are delivered (async subscriptions). */
  readonly filter?: EventPattern;
}

/** Arguments of `subscribe`. */
export interface SubscriptionInput {
  /** @default the gateway's `space` option */
  space?: string;
  /** @default `'async'` */
  type?: SubscriptionType;
  eventType: string;
  functionId: string;
  /** The request path (sync routes may use `:param` segments and a trailing `*wildcard`). @default `'/'` */
  path?: string;
  /** @default `'POST'` */
  method?: string;
  metadata?: Record<string, string>;
  /**
   * An EventBridge-style pattern over the event's attributes, extensions and `data`: only
   * matching events are delivered. Part of the subscription's identity. Async subscriptions only.
   * @example
   * ```ts
   * { data: { amount: [{ numeric: ['>=', 100] }], country: ['FR', 'DE'] } }
   * ```
   */
  filter?: EventPattern;
  /** Accepted only when it equals the ID derived from the other fields (as a stored record has it). */
  subscriptionId?: string;
}

const checks: Checks = new Checks('subscription');
/** The longest filter, as JSON: every instance keeps it, compiled, for every subscription. */
const MAX_FILTER_LENGTH = 16 * 1024;

/** Validates input into a stored record, computing its ID. Throws ValidationError. */
export function toSubscriptionRecord(input: SubscriptionInput, space: string): SubscriptionRecord {
  checks.object(input, 'the subscription');
  checks.onlyFields(
    input as never,
    [
      'space',
      'subscriptionId',
      'type',
      'eventType',
      'functionId',
      'path',
      'method',
      'metadata',
      'filter',
    ],
    'a subscription',
  );
  const type = input.type ?? 'async';
  if (type !== 'async' && type !== 'sync') checks.fail(`"type" must be "async" or "sync".`);
  const eventType = checkEventType(input.eventType);
  const functionId = checks.identifier(input.functionId, 'functionId');
  const method = checkMethod(checks, input.method ?? 'POST');
  let path = input.path === undefined ? '/' : checks.string(input.path, 'path');
  if (!path.startsWith('/')) path = '/' + path;
  const problem = routeProblem(path);
  if (problem) checks.fail(`"path" ${problem} (got ${JSON.stringify(path)}).`);
  let filter: EventPattern | undefined;
  if (input.filter !== undefined) {
    if (type !== 'async') checks.fail(`"filter" applies to async subscriptions only.`);
    try {
      compilePattern(input.filter);
      // Kept as JSON carries it: what is stored is what every instance compiles.
      const text = JSON.stringify(input.filter);
      if (text.length > MAX_FILTER_LENGTH) {
        checks.fail(`"filter" must be at most ${MAX_FILTER_LENGTH} characters of JSON.`);
      }
      filter = JSON.parse(text) as EventPattern;
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      checks.fail(`"filter" could not be read: ${describeError(error)}`);
    }
  }
  const record: { -readonly [K in keyof SubscriptionRecord]: SubscriptionRecord[K] } = {
    space: checks.space(space),
    subscriptionId: subscriptionId({ type, eventType, functionId, path, method, filter }),
    type,
    eventType,
    functionId,
    path,
    method,
  };
  const metadata = checks.metadata(input.metadata);
  if (metadata) record.metadata = metadata;
  if (filter) record.filter = filter;
  if (input.subscriptionId !== undefined && input.subscriptionId !== record.subscriptionId) {
    checks.fail(`"subscriptionId" is derived from the other fields and cannot be chosen.`);
  }
  return record;
}

/** An event type, or a wildcard (`user.*`, `*`) matching a family of them. */
function checkEventType(value: unknown): string {
  if (typeof value === 'string' && isWildcardType(value)) {
    const prefix = value.slice(0, -2);
    if (prefix !== '') checks.identifier(prefix, 'eventType');
    if ((prefix + '.').startsWith(RESERVED_PREFIX)) {
      checks.fail(
        `"eventType" ${JSON.stringify(value)}: system event types must be named, not matched by a wildcard.`,
      );
    }
    return value;
  }
  return checks.identifier(value, 'eventType');
}

/** Upper-cases and checks an HTTP method. */
export function checkMethod(on: Checks, value: unknown): HttpMethod {
  const method = on.string(value, 'method').toUpperCase();
  if (!(HTTP_METHODS as readonly string[]).includes(method)) {
    on.fail(`"method" must be one of ${HTTP_METHODS.join(', ')} (got ${JSON.stringify(value)}).`);
  }
  return method as HttpMethod;
}

/**
 * Event Gateway 0.9's subscription ID: base64url without padding of
 * `async,<eventType>,<functionId>,<escaped path>,<METHOD>` or `sync,<eventType>,<escaped path>,<METHOD>`.
 * A filtered subscription appends `,<the first 16 hex digits of the SHA-256 of its canonical
 * filter>`, so that two subscriptions differing only by filter are two subscriptions.
 */
export function subscriptionId(
  sub: Pick<SubscriptionRecord, 'type' | 'eventType' | 'functionId' | 'path' | 'method' | 'filter'>,
): string {
  let raw =
    sub.type === 'async'
      ? `async,${sub.eventType},${sub.functionId},${pathEscape(sub.path)},${sub.method}`
      : `sync,${sub.eventType},${pathEscape(sub.path)},${sub.method}`;
  if (sub.filter !== undefined) {
    // Required here: node:crypto costs milliseconds to load, and only filters need it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
    const { createHash } = require('node:crypto') as typeof import('node:crypto');
    raw += ',' + createHash('sha256').update(canonicalJson(sub.filter)).digest('hex').slice(0, 16);
  }
  return Buffer.from(raw, 'utf8').toString('base64url');
}

/** JSON with object keys sorted at every level: equal patterns, equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
