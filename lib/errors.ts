/**
 * Stable, machine-readable error codes. A code never changes meaning between versions; new codes
 * may be added.
 */
export type GatewayErrorCode =
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'STORE_UNAVAILABLE'
  | 'COMMIT_UNKNOWN'
  | 'REVISION_COMPACTED'
  | 'NOT_READY'
  | 'BACKPRESSURE'
  | 'INVOCATION_FAILED'
  | 'GATEWAY_CLOSED'
  | 'JOURNAL_UNAVAILABLE'
  | 'JOURNAL_RECORD_DAMAGED'
  | 'HOP_LIMIT'
  | 'FILTER_BUDGET_EXCEEDED'
  | 'EVENT_REFUSED'
  | 'INTAKE_FAILED'
  | 'ARCHIVE_UNAVAILABLE'
  | 'REPLAY_NOT_CONFIGURED'
  | 'REPLAY_BUSY'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'LIMIT_EXCEEDED'
  | 'OUTBOUND_REFUSED'
  | 'PEER_MISSING';

/** The kind of resource an error is about. */
export type ResourceKind =
  'eventType' | 'function' | 'subscription' | 'cors' | 'connection' | 'event';

/** Details shared by every {@link GatewayError}. */
export interface GatewayErrorDetails {
  /** The resource kind the error is about, when there is one. */
  resource?: ResourceKind;
  /** The identifier of that resource (name, functionId, subscriptionId or corsId). */
  id?: string;
  /** The space the resource lives in. */
  space?: string;
  /** The lower-level error that caused this one. */
  cause?: unknown;
}

/**
 * Base class of every error the gateway throws on purpose. Catch it to tell the gateway's own,
 * expected failures from bugs.
 *
 * @example
 * ```ts
 * try {
 *   await gateway.registerFunction({ functionId: 'hello', type: 'http', provider: { url: 'x' } });
 * } catch (err) {
 *   if (err instanceof GatewayError) console.log(err.code, err.status, err.message);
 * }
 * ```
 */
export abstract class GatewayError extends Error {
  /** Stable machine-readable code. */
  abstract readonly code: GatewayErrorCode;
  /** The HTTP status this error maps to in the Configuration and Events APIs. */
  abstract readonly status: number;
  /** The resource kind the error is about, when there is one. */
  declare readonly resource?: ResourceKind;
  /** The identifier of that resource. */
  declare readonly id?: string;
  /** The space the resource lives in. */
  declare readonly space?: string;

  constructor(message: string, details: GatewayErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    // Only the details given become properties, so that printed errors stay short.
    if (details.resource !== undefined) Object.assign(this, { resource: details.resource });
    if (details.id !== undefined) Object.assign(this, { id: details.id });
    if (details.space !== undefined) Object.assign(this, { space: details.space });
  }

  /** The error body of the Configuration API: `{"errors":[{"message": ...}]}`. */
  toJSON(): { errors: { message: string }[] } {
    return { errors: [{ message: this.message }] };
  }
}

/** The input does not validate. Nothing was changed. HTTP 400. */
export class ValidationError extends GatewayError {
  readonly code = 'VALIDATION_FAILED';
  readonly status = 400;
}

/**
 * A request's body is not of the media type the API takes: the Configuration API's writes take
 * `application/json` only, so that a page on another site cannot send one without the browser
 * asking first (a CORS preflight). Nothing was changed. HTTP 415.
 */
export class UnsupportedMediaTypeError extends GatewayError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  readonly status = 415;
}

/** The resource named does not exist. HTTP 404. */
export class NotFoundError extends GatewayError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
}

/** A resource with the same identifier exists already. HTTP 409. */
export class AlreadyExistsError extends GatewayError {
  readonly code = 'ALREADY_EXISTS';
  readonly status = 409;
}

/** Why a write conflicts with the configuration as it stands. */
export type ConflictReason =
  /** A resource the write refers to (a function, an event type, an authorizer) does not exist. */
  | 'missing-reference'
  /** The resource is still used (subscribed to, or an authorizer) and cannot be deleted. */
  | 'in-use'
  /** A sync subscription's path overlaps another one for the same space, method and event type. */
  | 'path-conflict'
  /** Concurrent writers kept changing the same resources; the write gave up after retrying. */
  | 'contention';

/**
 * The write is well-formed but conflicts with the configuration as it stands (a missing
 * reference, a resource in use, a path conflict). Nothing was changed. HTTP 400, as Event Gateway
 * 0.9 answered.
 */
export class ConflictError extends GatewayError {
  readonly code = 'CONFLICT';
  readonly status = 400;
  /** What the write conflicts with. */
  readonly reason: ConflictReason;

  constructor(message: string, reason: ConflictReason, details: GatewayErrorDetails = {}) {
    super(message, details);
    this.reason = reason;
  }
}

/**
 * The store could not be reached or failed. For a write: it was not applied (a write that may
 * have been fails with {@link CommitUnknownError} instead). HTTP 503.
 */
export class StoreUnavailableError extends GatewayError {
  readonly code = 'STORE_UNAVAILABLE';
  readonly status = 503;
}

/**
 * The store stopped answering while a write's commit was in doubt (sent, its answer lost) and
 * could not be asked in time whether it landed: the write MAY HAVE BEEN APPLIED, or not. Read
 * before writing again (a create tried again may answer ALREADY_EXISTS because the first one
 * landed). Only a write answers it; STORE_UNAVAILABLE always means nothing was applied.
 * HTTP 504: the store behind the gateway did not answer in time, and unlike 503 it does not
 * tell a client that the request was not processed.
 *
 * @example
 * ```ts
 * try {
 *   await gateway.registerFunction(input);
 * } catch (err) {
 *   // It may be registered or not: look (gateway.getFunction) before registering it again.
 *   if (err instanceof CommitUnknownError) console.warn(err.message);
 * }
 * ```
 */
export class CommitUnknownError extends GatewayError {
  readonly code = 'COMMIT_UNKNOWN';
  readonly status = 504;
}

/**
 * An event came back through the gateway more times than the `maxHops` option allows (its
 * `hopcount` extension): most likely functions emitting each other's events in a loop. Nothing
 * was accepted. HTTP 422.
 */
export class HopLimitError extends GatewayError {
  readonly code = 'HOP_LIMIT';
  readonly status = 422;
}

/**
 * Matching an event against the filters of the subscriptions it could go to took more steps
 * than the `maxFilterWork` option allows (long arrays or strings in the fields the filters
 * name): it was refused before anything was delivered, to any subscription. HTTP 422, as for a
 * looping event: the event is well-formed, and the same event is refused again whenever it is
 * sent (413 would tell the client its body passed the size limit, which it did not).
 *
 * @example
 * ```ts
 * try {
 *   await gateway.emit(event);
 * } catch (err) {
 *   if (err instanceof FilterBudgetError) console.log(`refused: over ${err.limit} steps`);
 * }
 * ```
 */
export class FilterBudgetError extends GatewayError {
  readonly code = 'FILTER_BUDGET_EXCEEDED';
  readonly status = 422;
  /** The budget the event went past: the `maxFilterWork` option. */
  readonly limit: number;

  constructor(limit: number, details: GatewayErrorDetails = {}) {
    super(
      `Matching the event against its subscriptions' filters takes more than ${limit} steps (the gateway's "maxFilterWork" option): it was refused and delivered to no subscription. Long arrays and strings in the fields the filters name cost the most.`,
      { resource: 'event', ...details },
    );
    this.limit = limit;
  }
}

/** The gateway's limits a write can go past: see the `limits` option of `createGateway`. */
export type LimitName = 'connectionsPerSpace' | 'minScheduleInterval' | 'recordsPerSpace';

/**
 * A write would take a space past one of the host's limits (the `limits` option of
 * `createGateway`): more connections than `connectionsPerSpace`, a tenant's records past
 * `recordsPerSpace`, or a schedule that ticks more
 * often than `minScheduleInterval` allows. Nothing was changed. HTTP 422, as for the gateway's
 * other limits: the request is well-formed, and the same request is refused again until the
 * space or the limit changes.
 * @example
 * ```ts
 * try {
 *   await gateway.createConnection(input);
 * } catch (err) {
 *   if (err instanceof LimitExceededError) console.log(err.limit, err.max); // 'connectionsPerSpace', 20
 * }
 * ```
 */
export class LimitExceededError extends GatewayError {
  readonly code = 'LIMIT_EXCEEDED';
  readonly status = 422;
  /** The limit the write would go past. */
  readonly limit: LimitName;
  /** The limit's value: a count, or a duration in ms. */
  readonly max: number;

  constructor(message: string, limit: LimitName, max: number, details: GatewayErrorDetails = {}) {
    super(message, details);
    this.limit = limit;
    this.max = max;
  }
}

/**
 * The journal could not record an event (full, failing, locked by another process, closed):
 * nothing was accepted. HTTP 503.
 */
export class JournalUnavailableError extends GatewayError {
  readonly code = 'JOURNAL_UNAVAILABLE';
  readonly status = 503;
}

/**
 * A journal record could not be read (not UTF-8, not JSON, or not the journal's shape): it was
 * set aside, kept for inspection, and everything else resumed. Reported on `gateway.error`; never
 * thrown to a caller. HTTP 500.
 */
export class JournalRecordDamagedError extends GatewayError {
  readonly code = 'JOURNAL_RECORD_DAMAGED';
  readonly status = 500;
  /** Where the record was: its key (LocalJournal) or `<partition>/<offset>` (KafkaJournal). */
  readonly record: string;
  /** Why it could not be read. */
  readonly reason: string;

  constructor(message: string, record: string, reason: string) {
    super(message);
    this.record = record;
    this.reason = reason;
  }
}

/**
 * A store was asked for a revision it no longer keeps (compacted away). Callers relist at the
 * latest revision. HTTP 500: it never reaches an API client.
 */
export class RevisionCompactedError extends GatewayError {
  readonly code = 'REVISION_COMPACTED';
  readonly status = 500;
  /** The oldest revision the store can still serve. */
  readonly oldestRevision: number;

  constructor(message: string, oldestRevision: number) {
    super(message);
    this.oldestRevision = oldestRevision;
  }
}

/** The gateway (or store) was closed; it accepts no more work. HTTP 503. */
export class GatewayClosedError extends GatewayError {
  readonly code = 'GATEWAY_CLOSED';
  readonly status = 503;
}

/**
 * The gateway has not loaded the configuration yet: `await gateway.ready()` before reading from a
 * gateway just created. HTTP 503.
 */
export class GatewayNotReadyError extends GatewayError {
  readonly code = 'NOT_READY';
  readonly status = 503;
}

/**
 * The delivery queue has no room for every delivery an event needs; none of them was accepted
 * (the event was not dropped silently: the caller decides). Retry later. HTTP 503.
 */
export class BackpressureError extends GatewayError {
  readonly code = 'BACKPRESSURE';
  readonly status = 503;
}

/**
 * A connection's source was refused at connect time by the outbound policy its writer is held
 * to: the host it names resolved (or is) an address the policy forbids (a DNS name re-pointed at
 * a loopback, private or metadata address after the connection was written). Nothing was sent.
 * Kept as the connection's last error in `health()`; the source is tried again with backoff.
 * HTTP 403.
 */
export class OutboundRefusedError extends GatewayError {
  readonly code = 'OUTBOUND_REFUSED';
  readonly status = 403;
}

/** Details of an {@link InvocationError}. */
export interface InvocationErrorDetails extends GatewayErrorDetails {
  /** Whether the same delivery may succeed if tried again later. */
  retryable: boolean;
  /** The HTTP status the function answered, if it answered. */
  statusCode?: number;
  /** How long the function asked to wait before a retry (Retry-After), in ms. */
  retryAfter?: number;
  /** What the function answered with its failure (a Lambda's error payload), when it answered. */
  payload?: unknown;
}

/**
 * A function could not be invoked or failed: a connection error, a timeout, an error status, a
 * handler that threw, no provider or handler on this instance. Providers throw it to say whether
 * the failure may pass (`retryable`). HTTP 500 when it answers a request.
 */
export class InvocationError extends GatewayError {
  readonly code = 'INVOCATION_FAILED';
  readonly status = 500;
  /** Whether the same delivery may succeed if tried again later. */
  readonly retryable: boolean;
  /** The HTTP status the function answered, if it answered. */
  declare readonly statusCode?: number;
  /** How long the function asked to wait before a retry, in ms. */
  declare readonly retryAfter?: number;
  /** What the function answered with its failure (a Lambda's error payload), when it answered. */
  declare readonly payload?: unknown;

  constructor(message: string, details: InvocationErrorDetails) {
    super(message, details);
    this.retryable = details.retryable;
    if (details.statusCode !== undefined) Object.assign(this, { statusCode: details.statusCode });
    if (details.retryAfter !== undefined) Object.assign(this, { retryAfter: details.retryAfter });
    if (details.payload !== undefined) Object.assign(this, { payload: details.payload });
  }
}

/** Details of an {@link EventRefusedError} or {@link IntakeFailedError}. */
export interface IntakeErrorDetails extends GatewayErrorDetails {
  /** The intake plugin that refused the event, or failed. */
  plugin: string;
}

/**
 * An intake plugin refused the event: nothing was accepted or delivered. `status` is the one the
 * plugin chose (403 unless it said 400, 429 or 503); the message is its reason.
 */
export class EventRefusedError extends GatewayError {
  readonly code = 'EVENT_REFUSED';
  readonly status: number;
  /** The plugin that refused it. */
  readonly plugin: string;

  constructor(message: string, status: number, details: IntakeErrorDetails) {
    super(message, details);
    this.status = status;
    this.plugin = details.plugin;
  }
}

/**
 * An intake plugin failed on the event (threw, rejected, or ran past its time budget) and is not
 * fail-open, so the event was refused: nothing was accepted. Retry later. HTTP 503.
 */
export class IntakeFailedError extends GatewayError {
  readonly code = 'INTAKE_FAILED';
  readonly status = 503;
  /** The plugin that failed. */
  readonly plugin: string;

  constructor(message: string, details: IntakeErrorDetails) {
    super(message, details);
    this.plugin = details.plugin;
  }
}

/**
 * An archive could not be read (replay) or written (a sink that cannot start). HTTP 503.
 */
export class ArchiveUnavailableError extends GatewayError {
  readonly code = 'ARCHIVE_UNAVAILABLE';
  readonly status = 503;
}

/**
 * A replay was asked of something given no archive to read (a dashboard without
 * `replaySource`). Nothing was read. HTTP 404.
 */
export class ReplayNotConfiguredError extends GatewayError {
  readonly code = 'REPLAY_NOT_CONFIGURED';
  readonly status = 404;
}

/**
 * A replay dry run is running already where only one may run at a time (a dashboard); try again
 * when it ends. Nothing was read. HTTP 429.
 */
export class ReplayBusyError extends GatewayError {
  readonly code = 'REPLAY_BUSY';
  readonly status = 429;
}

/**
 * An optional peer dependency a feature needs (a store's client, the AWS SDK, kafkajs,
 * classic-level, prom-client, `@opentelemetry/api`...) is not installed: the host's setup to fix,
 * never a client's input, so HTTP 500 (not 501: that one is cacheable by default, and the feature
 * works once the package is installed). The message holds the `npm install` command; `cause` is
 * the original MODULE_NOT_FOUND. A peer that is installed but fails while loading is not this
 * error: its own failure surfaces.
 *
 * @example
 * ```ts
 * try {
 *   new ZooKeeperStore({ connect: '127.0.0.1:2181' });
 * } catch (err) {
 *   if (err instanceof PeerMissingError) console.error(err.peer, err.message);
 * }
 * ```
 */
export class PeerMissingError extends GatewayError {
  readonly code = 'PEER_MISSING';
  readonly status = 500;
  /** The package that is not installed, e.g. `@aws-sdk/client-s3`. */
  readonly peer: string;

  constructor(message: string, details: GatewayErrorDetails & { peer: string }) {
    super(message, details);
    this.peer = details.peer;
  }
}
