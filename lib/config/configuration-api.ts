import { TurnsByKey } from '../model/turns-by-key';
import { Catalog, type ConfigChange, type RecordsByKind } from '../cache/catalog';
import { ConfigCache } from '../cache/config-cache';
import {
  CommitUnknownError,
  ConflictError,
  GatewayClosedError,
  GatewayError,
  GatewayNotReadyError,
  StoreUnavailableError,
  ValidationError,
  type ResourceKind,
} from '../errors';
import { Checks, matchesMetadata } from '../model/checks';
import { keepAliveWhile } from '../model/keep-alive';
import {
  connectionWithoutSecrets,
  type ConnectionInput,
  type ConnectionRecord,
} from '../model/connection';
import type { CorsInput, CorsRecord } from '../model/cors';
import type { EventTypeInput, EventTypeRecord } from '../model/event-type';
import type {
  FunctionInput,
  FunctionRecord,
  LocalHandler,
  ProviderValidator,
} from '../model/function';
import { withoutSecrets } from '../model/function-secrets';
import { KeyLayout, type RecordKind } from '../model/key-layout';
import type { SubscriptionInput, SubscriptionRecord } from '../model/subscription';
import type { OutboundPolicies } from '../model/outbound-policies';
import type { Store } from '../store/store';
import * as connections from './connection-rules';
import * as cors from './cors-rules';
import * as eventTypes from './event-type-rules';
import * as functions from './function-rules';
import * as subscriptions from './subscription-rules';
import type { ConnectionLimits, RuleContext, WritePlan } from './write-plan';
import { writerOf, type WriteOptions } from './function-rules';
import { checkSpaceCount } from './space-count';

export type { WriteOptions };

/** Names a resource in a space: the argument of get and delete methods. */
export interface SpaceArgument {
  /** @default the gateway's `space` option */
  space?: string;
}

/** Asks for a function's secrets as stored (the default masks them). */
export interface SecretsArgument {
  /**
   * Return secrets as stored: AWS secrets, and the userinfo, query and fragment of function URLs
   * (`url`, `queueUrl`, `endpoint`), which otherwise read `'[redacted]'`. Host code only: the
   * Configuration API never asks.
   * @default false
   */
  secrets?: boolean;
}

/** Arguments of the list methods. */
export interface ListArguments extends SpaceArgument {
  /** Only records whose metadata has every one of these entries. */
  metadata?: Record<string, string>;
}

/** Arguments of `updateCors`: `corsId`, or `method` and `path`, name the configuration. */
export type CorsUpdateInput = Partial<CorsInput>;

/** What the configuration API takes from the gateway's resolved options (see `GatewayOptions`). */
export interface ConfigurationOptions {
  readonly space: string;
  readonly prefix: string;
  readonly listPageSize: number;
  readonly resyncInterval: number;
  readonly readyTimeout: number;
  readonly consistencyTimeout: number;
  readonly maxWriteAttempts: number;
  readonly outboundPolicies: OutboundPolicies;
  /** See `GatewayOptions.limits`. */
  readonly limits?: ConnectionLimits;
}

/**
 * The configuration API of a {@link Gateway}: event types, functions, subscriptions and CORS
 * configurations, read from the local cache and written to the store with referential integrity.
 * A {@link Gateway} composes one and delegates these methods to it.
 */
export class ConfigurationApi {
  /** The gateway's options it keeps to. @internal */
  readonly options: ConfigurationOptions;
  private readonly layout: KeyLayout;
  /** The store's configuration, listed and watched. @internal */
  readonly cache: ConfigCache;
  /** The configuration's records, decoded. @internal */
  readonly catalog: Catalog;
  /** Local handlers bound on this instance, by space then function ID. @internal */
  readonly handlers = new Map<string, Map<string, LocalHandler>>();
  /** Set once the gateway closes: reads and writes are refused. @internal */
  closed = false;
  /** This instance's creates under a count limit, one at a time per kind and space. */
  private readonly countedCreates = new TurnsByKey();

  /** Where the store keeps leases, beside the configuration (the connections' units). @internal */
  get leasePrefix(): string {
    return this.layout.leasePrefix;
  }

  /** Made by {@link createGateway}. @internal */
  constructor(
    /** The store the configuration lives in. */
    readonly store: Store,
    options: ConfigurationOptions,
    private readonly providerValidators: ReadonlyMap<string, ProviderValidator | undefined>,
    /** Called once a local handler is bound here (deliveries may be waiting for it). */
    private readonly handlerBound: (space: string, functionId: string) => void = () => undefined,
  ) {
    this.options = options;
    this.layout = new KeyLayout(options.prefix);
    this.catalog = new Catalog(this.layout);
    this.cache = new ConfigCache(store, this.layout.prefix, {
      pageSize: options.listPageSize,
      resyncInterval: options.resyncInterval,
      // The catalog keeps each record decoded; the raw JSON would be a second copy.
      retainValues: false,
      onPage: (items) => this.catalog.prepare(items),
    });
  }

  /**
   * Resolves once the configuration is loaded from the store; reads throw before that. Rejects
   * with StoreUnavailableError, carrying the last store error, when the store has not answered
   * within the `readyTimeout` option (the gateway keeps trying: a later call may resolve).
   */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new GatewayClosedError('The gateway is closed.'));
    if (this.cache.isReady) return Promise.resolve();
    const timeout = this.options.readyTimeout;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const last = this.cache.lastError;
        reject(
          new StoreUnavailableError(
            `The configuration could not be loaded from ${this.store.name} within ${timeout} ms` +
              (last ? `; the last store error: ${last}` : '; the store has not answered.'),
          ),
        );
      }, timeout);
      timer.unref();
    });
    // The cache retries on unref'd timers: the caller's await holds the process until the timeout.
    return keepAliveWhile(
      Promise.race([this.cache.ready(), expired]).finally(() => clearTimeout(timer)),
    );
  }

  /** True once the configuration is loaded. */
  get isReady(): boolean {
    return this.cache.isReady;
  }

  /** The store revision this instance's configuration reflects. */
  get revision(): number {
    return this.cache.revision;
  }

  /**
   * The spaces that hold any event type, function, subscription or CORS configuration, sorted
   * (from the local cache).
   * @example
   * ```ts
   * gateway.listSpaces(); // ['default', 'orders']
   * ```
   */
  listSpaces(): string[] {
    return this.catalog.spaces();
  }

  // ---- event types -------------------------------------------------------------------------

  /**
   * Creates an event type, optionally guarded by an authorizer function (which must exist).
   * @example
   * ```ts
   * await gateway.createEventType({ name: 'user.created' });
   * ```
   */
  createEventType(input: EventTypeInput, options?: WriteOptions): Promise<EventTypeRecord> {
    const space = this.spaceOf(input);
    return this.create(
      'eventtypes',
      space,
      options,
      (record: EventTypeRecord) => record.name,
      (ctx) => eventTypes.planCreateEventType(ctx, input, space),
    );
  }

  /** Replaces an event type's authorizer and metadata. */
  updateEventType(input: EventTypeInput): Promise<EventTypeRecord> {
    return this.write((ctx) => eventTypes.planUpdateEventType(ctx, input, this.spaceOf(input)));
  }

  /** Deletes an event type; refused while a subscription uses it. */
  deleteEventType(input: SpaceArgument & { name: string }): Promise<void> {
    const name = this.idOf(input, 'name', 'eventType');
    return this.write((ctx) => eventTypes.planDeleteEventType(ctx, this.spaceOf(input), name));
  }

  /** The event type, or NotFoundError. */
  getEventType(input: SpaceArgument & { name: string }): EventTypeRecord {
    const name = this.idOf(input, 'name', 'eventType');
    return eventTypes.requireEventType(this.readContext(), this.spaceOf(input), name);
  }

  /** The space's event types, in name order, filtered on metadata. */
  listEventTypes(input: ListArguments = {}): EventTypeRecord[] {
    return this.list('eventtypes', input);
  }

  // ---- functions ---------------------------------------------------------------------------

  /**
   * Registers a function. `local` functions run `handler` in this process (inferred when only a
   * handler is given); `http` functions receive events at `provider.url`. With
   * `{ writer: 'tenant' }` (what the Configuration API passes for its API clients) the record is
   * checked against the tenants' outbound policy and says `writer: 'tenant'`.
   * @example
   * ```ts
   * await gateway.registerFunction({ functionId: 'hello', handler: async (event) => 'hi' });
   * await gateway.registerFunction({
   *   functionId: 'mailer', type: 'http', provider: { url: 'http://localhost:3000/mail' },
   * });
   * ```
   */
  async registerFunction(input: FunctionInput, options?: WriteOptions): Promise<FunctionRecord> {
    const space = this.spaceOf(input);
    const record = await this.bindingIfUnknown(
      input,
      this.create(
        'functions',
        space,
        options,
        (r: FunctionRecord) => r.functionId,
        (ctx) => functions.planRegisterFunction(ctx, input, space, options),
      ),
    );
    if (input.handler) this.bind(record.space, record.functionId, input.handler);
    return withoutSecrets(record);
  }

  /**
   * Replaces a function's type, provider and metadata (and, for `local`, its handler here). A
   * secret given as `'[redacted]'` (as read without `secrets: true`) keeps the stored one, as long
   * as where the function points is unchanged: with a new type, host, port or path, endpoint,
   * queue, region, ARN, stream or access key, the update is refused and the secret must be sent
   * again. The
   * record's `writer` becomes the options' (a host update of a tenant's function makes it the
   * host's).
   */
  async updateFunction(input: FunctionInput, options?: WriteOptions): Promise<FunctionRecord> {
    const record = await this.bindingIfUnknown(
      input,
      this.write((ctx) => functions.planUpdateFunction(ctx, input, this.spaceOf(input), options)),
    );
    if (input.handler) this.bind(record.space, record.functionId, input.handler);
    return withoutSecrets(record);
  }

  /** Deletes a function; refused while a subscription or an event type's authorizer uses it. */
  deleteFunction(input: SpaceArgument & { functionId: string }): Promise<void> {
    const id = this.idOf(input, 'functionId', 'function');
    return this.write((ctx) => functions.planDeleteFunction(ctx, this.spaceOf(input), id));
  }

  /**
   * The function, or NotFoundError. Its secrets read `'[redacted]'` unless `secrets` is true: AWS
   * secrets (`awsSecretAccessKey`, `awsSessionToken`), and the userinfo, query and fragment of its
   * URLs (`https://[redacted]@host/path?[redacted]`).
   */
  getFunction(input: SpaceArgument & { functionId: string } & SecretsArgument): FunctionRecord {
    const id = this.idOf(input, 'functionId', 'function');
    const record = functions.requireFunction(this.readContext(), this.spaceOf(input), id);
    return input.secrets === true ? record : withoutSecrets(record);
  }

  /** The space's functions, in ID order, filtered on metadata; secrets as in `getFunction`. */
  listFunctions(input: ListArguments & SecretsArgument = {}): FunctionRecord[] {
    const records = this.list('functions', input);
    return input.secrets === true ? records : records.map(withoutSecrets);
  }

  /**
   * Binds the handler of a `local` function on this instance without writing to the store: for
   * every instance but the one that registered the function.
   */
  bindLocalHandler(input: SpaceArgument & { functionId: string; handler: LocalHandler }): void {
    const id = this.idOf(input, 'functionId', 'function');
    if (typeof input.handler !== 'function') {
      throw new ValidationError(
        `Function doesn't validate. Validation error: "handler" must be a function.`,
      );
    }
    this.bind(this.spaceOf(input), id, input.handler);
  }

  /** The handler bound on this instance for a `local` function. @internal */
  localHandler(space: string, functionId: string): LocalHandler | undefined {
    return this.handlers.get(space)?.get(functionId);
  }

  // ---- subscriptions -----------------------------------------------------------------------

  /**
   * Subscribes a function to an event type. Its ID is derived from its fields as Event Gateway
   * 0.9 derived it. The function and the event type must exist (`http.request` always does).
   * @example
   * ```ts
   * await gateway.subscribe({ eventType: 'user.created', functionId: 'hello' });
   * await gateway.subscribe({
   *   type: 'sync', eventType: 'http.request', functionId: 'hello', method: 'GET', path: '/users/:id',
   * });
   * ```
   */
  subscribe(input: SubscriptionInput, options?: WriteOptions): Promise<SubscriptionRecord> {
    const space = this.spaceOf(input);
    return this.create(
      'subscriptions',
      space,
      options,
      (r: SubscriptionRecord) => r.subscriptionId,
      (ctx) => subscriptions.planSubscribe(ctx, input, space),
    );
  }

  /** Replaces a subscription's metadata; every other field is fixed. */
  updateSubscription(input: subscriptions.SubscriptionUpdateInput): Promise<SubscriptionRecord> {
    return this.write((ctx) =>
      subscriptions.planUpdateSubscription(ctx, input, this.spaceOf(input)),
    );
  }

  /** Deletes a subscription. */
  unsubscribe(input: SpaceArgument & { subscriptionId: string }): Promise<void> {
    const id = this.idOf(input, 'subscriptionId', 'subscription');
    return this.write((ctx) => subscriptions.planUnsubscribe(ctx, this.spaceOf(input), id));
  }

  /** The subscription, or NotFoundError. */
  getSubscription(input: SpaceArgument & { subscriptionId: string }): SubscriptionRecord {
    const id = this.idOf(input, 'subscriptionId', 'subscription');
    return subscriptions.requireSubscription(this.readContext(), this.spaceOf(input), id);
  }

  /** The space's subscriptions, in ID order, filtered on metadata. */
  listSubscriptions(input: ListArguments = {}): SubscriptionRecord[] {
    return this.list('subscriptions', input);
  }

  // ---- CORS --------------------------------------------------------------------------------

  /**
   * Creates a CORS configuration for one method and path of the Events API.
   * @example
   * ```ts
   * await gateway.createCors({ method: 'GET', path: '/users', allowedOrigins: ['https://app.example'] });
   * ```
   */
  createCors(input: CorsInput, options?: WriteOptions): Promise<CorsRecord> {
    const space = this.spaceOf(input);
    return this.create(
      'cors',
      space,
      options,
      (r: CorsRecord) => r.corsId,
      (ctx) => cors.planCreateCors(ctx, input, space),
    );
  }

  /** Replaces a CORS configuration's allowed origins, methods, headers, credentials, metadata. */
  updateCors(input: CorsUpdateInput): Promise<CorsRecord> {
    return this.write((ctx) => cors.planUpdateCors(ctx, input, this.spaceOf(input)));
  }

  /** Deletes a CORS configuration. */
  deleteCors(input: SpaceArgument & { corsId: string }): Promise<void> {
    const id = this.idOf(input, 'corsId', 'cors');
    return this.write((ctx) => cors.planDeleteCors(ctx, this.spaceOf(input), id));
  }

  /** The CORS configuration, or NotFoundError. */
  getCors(input: SpaceArgument & { corsId: string }): CorsRecord {
    const id = this.idOf(input, 'corsId', 'cors');
    return cors.requireCors(this.readContext(), this.spaceOf(input), id);
  }

  /** The space's CORS configurations, in ID order, filtered on metadata. */
  listCors(input: ListArguments = {}): CorsRecord[] {
    return this.list('cors', input);
  }

  // ---- connections -------------------------------------------------------------------------

  /**
   * Creates a connection: a source (a schedule, a Kafka topic, an SQS queue, a Kinesis stream,
   * an AMQP queue) whose messages every instance running connections turns into events of this
   * space, each message acknowledged only once its event is accepted. `eventType` wraps each
   * message's data; `cloudEvents: true` takes each message as a structured CloudEvent. Without
   * `connectionId` a random UUID is given. With `{ writer: 'tenant' }` every address the source
   * connects to is held to the tenants' outbound policy. Secrets read `'[redacted]'` in the
   * result, as in `getConnection`.
   * @example
   * ```ts
   * await gateway.createConnection({
   *   connectionId: 'nightly', type: 'schedule', source: { cron: '0 3 * * *' }, eventType: 'nightly.run',
   * });
   * await gateway.createConnection({
   *   connectionId: 'orders', type: 'kafka', source: { brokers: 'localhost:9092', topic: 'orders' },
   *   cloudEvents: true, deadLetter: { functionId: 'refused-orders' },
   * });
   * ```
   */
  async createConnection(
    input: ConnectionInput,
    options?: WriteOptions,
  ): Promise<ConnectionRecord> {
    const space = this.spaceOf(input);
    const write = () =>
      this.write((ctx) => connections.planCreateConnection(ctx, input, space, options));
    // Under a count limit, each create's compare refuses every other create of the space made
    // meanwhile: this instance's own take turns instead of contending (30 at once failed 20).
    const counted = this.options.limits?.connectionsPerSpace !== undefined;
    const record = await (counted
      ? this.countedCreates.inTurn(`connections/${space}`, write)
      : write());
    return connectionWithoutSecrets(record);
  }

  /**
   * Replaces a connection's source, target, dead-letter settings and metadata; its runs restart
   * with them on every instance. A secret given as `'[redacted]'` keeps the stored one while
   * the source still points where it did (as for `updateFunction`).
   */
  async updateConnection(
    input: ConnectionInput & { connectionId: string },
    options?: WriteOptions,
  ): Promise<ConnectionRecord> {
    const record = await this.write((ctx) =>
      connections.planUpdateConnection(ctx, input, this.spaceOf(input), options),
    );
    return connectionWithoutSecrets(record);
  }

  /** Deletes a connection; every instance stops pulling from its source. */
  deleteConnection(input: SpaceArgument & { connectionId: string }): Promise<void> {
    const id = this.idOf(input, 'connectionId', 'connection');
    return this.write((ctx) => connections.planDeleteConnection(ctx, this.spaceOf(input), id));
  }

  /** The connection, or NotFoundError; secrets read `'[redacted]'` unless `secrets` is true. */
  getConnection(
    input: SpaceArgument & { connectionId: string } & SecretsArgument,
  ): ConnectionRecord {
    const id = this.idOf(input, 'connectionId', 'connection');
    const record = connections.requireConnection(this.readContext(), this.spaceOf(input), id);
    return input.secrets === true ? record : connectionWithoutSecrets(record);
  }

  /** The space's connections, in ID order, filtered on metadata; secrets as in `getConnection`. */
  listConnections(input: ListArguments & SecretsArgument = {}): ConnectionRecord[] {
    const records = this.list('connections', input);
    return input.secrets === true ? records : records.map(connectionWithoutSecrets);
  }

  // ---- internals ---------------------------------------------------------------------------

  /** The space an argument names, or the gateway's. @internal */
  spaceOf(input: SpaceArgument | undefined): string {
    return input?.space ?? this.options.space;
  }

  private idOf<K extends string>(
    input: Record<K, unknown> | undefined,
    field: K,
    resource: ResourceKind,
  ): string {
    const checks = new Checks(resource);
    checks.object(input, 'the argument');
    return checks.string((input as Record<K, unknown>)[field], field);
  }

  /** What the rules read; throws before the configuration is loaded, or once closed. @internal */
  readContext(): RuleContext {
    if (this.closed) throw new GatewayClosedError('The gateway is closed.');
    if (!this.cache.isReady) {
      throw new GatewayNotReadyError(
        'The gateway has not loaded its configuration yet: await gateway.ready() first.',
      );
    }
    return {
      catalog: this.catalog,
      layout: this.layout,
      revision: this.cache.revision,
      providerValidators: this.providerValidators,
      // One policy for every writer until the tenants' own is configured.
      outboundFor: (space, writer) => this.options.outboundPolicies.forWriter(space, writer),
      limits: this.options.limits,
    };
  }

  private list<K extends RecordKind>(kind: K, input: ListArguments): RecordsByKind[K][] {
    this.readContext();
    const records = this.catalog.list(kind, this.spaceOf(input));
    return input.metadata
      ? records.filter((r) => matchesMetadata(r.metadata, input.metadata))
      : records;
  }

  /**
   * A create: for a tenant (`writer: 'tenant'`) under `limits.recordsPerSpace`, checked against
   * the count of its kind in its space, and made one at a time per kind and space here (each
   * create's compare refuses every other of the kind and space made meanwhile, on any instance).
   */
  private create<T>(
    kind: RecordKind,
    space: string,
    options: WriteOptions | undefined,
    idOf: (record: T) => string,
    plan: (ctx: RuleContext) => WritePlan<T>,
  ): Promise<T> {
    const max = this.options.limits?.recordsPerSpace;
    if (max === undefined || kind === 'connections' || writerOf(options) !== 'tenant') {
      return this.write(plan);
    }
    const counted = (ctx: RuleContext): WritePlan<T> => {
      const planned = plan(ctx);
      const id = idOf(planned.result);
      const limited = checkSpaceCount(ctx, kind, space, id, 'recordsPerSpace', max);
      return { ...planned, compares: [...planned.compares, ...limited] };
    };
    return this.countedCreates.inTurn(`${kind}/${space}`, () => this.write(counted));
  }

  /**
   * Plans a write from the cache, commits it as one transaction, and waits until the cache has
   * applied it. When the store refuses (a concurrent write changed what the plan relied on), the
   * cache catches up to the store's revision and the write is planned again: it then either
   * succeeds or fails with the error the new state calls for. Planning again is safe: the store
   * answers "refused" only for a transaction that was not applied (one whose answer was lost is
   * settled first, or fails with CommitUnknownError), so a write never runs twice.
   */
  private write<T>(plan: (ctx: RuleContext) => WritePlan<T>): Promise<T> {
    return keepAliveWhile(this.writeOnce(plan));
  }

  private async writeOnce<T>(plan: (ctx: RuleContext) => WritePlan<T>): Promise<T> {
    if (this.closed) throw new GatewayClosedError('The gateway is closed.');
    await this.ready();
    for (let attempt = 1; attempt <= this.options.maxWriteAttempts; attempt++) {
      const { compares, operations, result } = plan(this.readContext());
      let outcome;
      try {
        outcome = await this.store.txn(compares, operations);
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        throw new StoreUnavailableError(`The store failed the write: ${(error as Error).message}`, {
          cause: error,
        });
      }
      await this.caughtUp(outcome.revision, outcome.succeeded);
      if (outcome.succeeded) return result;
    }
    throw new ConflictError(
      `The write was refused ${this.options.maxWriteAttempts} times by concurrent changes to the same resources; nothing was changed.`,
      'contention',
    );
  }

  private caughtUp(revision: number, committed: boolean): Promise<void> {
    const timeout = this.options.consistencyTimeout;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const lag = `this instance's cache has not reached that revision within ${timeout} ms (it is at ${this.cache.revision}).`;
        // A write that was applied is never answered as unavailable (which says "not applied").
        reject(
          committed
            ? new CommitUnknownError(`The write was applied at revision ${revision}, but ${lag}`)
            : new StoreUnavailableError(`The write was not applied and ${lag}`),
        );
      }, timeout);
      timer.unref();
    });
    return Promise.race([this.cache.waitFor(revision), expired]).finally(() => clearTimeout(timer));
  }

  /** A deleted function, or one no longer `local`, keeps no handler here. @internal */
  unbindStaleHandler(change: ConfigChange): void {
    if (change.resource !== 'function') return;
    const record = change.record as FunctionRecord | undefined;
    if (!record || record.type !== 'local') this.handlers.get(change.space)?.delete(change.id);
  }

  /**
   * A function write that may have landed (CommitUnknownError) binds its handler all the same: if
   * the function exists, its events find the handler; if not, nothing calls it.
   */
  private bindingIfUnknown<T>(input: FunctionInput, writing: Promise<T>): Promise<T> {
    return writing.catch((error: unknown) => {
      if (error instanceof CommitUnknownError && input.handler) {
        this.bind(this.spaceOf(input), input.functionId, input.handler);
      }
      throw error;
    });
  }

  private bind(space: string, functionId: string, handler: LocalHandler): void {
    let bySpace = this.handlers.get(space);
    if (!bySpace) this.handlers.set(space, (bySpace = new Map()));
    bySpace.set(functionId, handler);
    this.handlerBound(space, functionId);
  }

  /** Summary counts for the REPL. @internal */
  counts(): string {
    const c = (kind: RecordKind) => this.catalog.count(kind);
    return `eventTypes: ${c('eventtypes')}, functions: ${c('functions')}, subscriptions: ${c('subscriptions')}, cors: ${c('cors')}`;
  }
}
