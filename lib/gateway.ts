import { EventEmitter } from 'eventemitter3';
import { inspect } from 'node:util';
import {
  Catalog,
  type ConfigChange,
  type InvalidRecord,
  type RecordsByKind,
} from './cache/catalog';
import { ConfigCache } from './cache/config-cache';
import * as cors from './config/cors-rules';
import * as eventTypes from './config/event-type-rules';
import * as functions from './config/function-rules';
import * as subscriptions from './config/subscription-rules';
import type { RuleContext, WritePlan } from './config/write-plan';
import {
  DeliveryService,
  type EmitOptions,
  type EmitResult,
  type SystemEvents,
} from './delivery/delivery-service';
import type { DeadLetter } from './delivery/dispatcher';
import type { Provider } from './delivery/provider';
import { HttpProvider } from './delivery/providers/http-provider';
import { LocalProvider } from './delivery/providers/local-provider';
import type { CloudEvent } from './events/cloudevent';
import type { MetricsSnapshot } from './metrics/gateway-metrics';
import { Router } from './router/router';
import {
  ConflictError,
  GatewayClosedError,
  GatewayError,
  GatewayNotReadyError,
  StoreUnavailableError,
  ValidationError,
  type ResourceKind,
} from './errors';
import { Checks, matchesMetadata } from './model/checks';
import type { CorsInput, CorsRecord } from './model/cors';
import type { EventTypeInput, EventTypeRecord } from './model/event-type';
import type {
  FunctionInput,
  FunctionRecord,
  LocalHandler,
  ProviderValidator,
} from './model/function';
import { KeyLayout, type RecordKind } from './model/key-layout';
import type { SubscriptionInput, SubscriptionRecord } from './model/subscription';
import { resolveOptions, type GatewayOptions, type ResolvedGatewayOptions } from './options';
import { MemoryStore } from './store/memory-store';
import type { Store } from './store/store';

/** Names a resource in a space: the argument of get and delete methods. */
export interface SpaceArgument {
  /** @default the gateway's `space` option */
  space?: string;
}

/** Arguments of the list methods. */
export interface ListArguments extends SpaceArgument {
  /** Only records whose metadata has every one of these entries. */
  metadata?: Record<string, string>;
}

/** Arguments of `updateCors`: `corsId`, or `method` and `path`, name the configuration. */
export type CorsUpdateInput = Partial<CorsInput>;

/** What `close()` resolves with. */
export interface CloseReport {
  /** Deliveries the drain could not finish (each also went to `onDeadLetter`). */
  readonly undelivered: DeadLetter[];
}

/** Events a gateway emits locally (through eventemitter3), with their arguments. */
export interface GatewayEvents extends SystemEvents {
  /** Configuration changed (by this instance or another); `revision` is the cache's new revision. */
  'config.changed': [changes: ConfigChange[], revision: number];
  /** A stored value could not be used (not JSON, wrong ID); it is left out of routing. */
  'config.invalid': [invalid: InvalidRecord];
  /** The store failed; the gateway keeps serving its last good configuration and retries. */
  'store.error': [error: Error];
  /** The cache relisted the store; `repaired` counts the differences it applied. */
  'store.resync': [reason: string, repaired: number];
  /** A failure with no caller to report to (an `onDeadLetter` hook that threw). */
  'gateway.error': [error: Error];
}

/**
 * An Event Gateway instance: the configuration API over a store, answered from a local cache
 * that a store watch keeps in step. Create it with {@link createGateway}.
 *
 * Reads are synchronous and never call the store. Writes validate, commit to the store
 * atomically (with referential integrity under concurrent writers), then resolve once this
 * instance's cache has applied them, so a write is visible to the next read here.
 */
export class Gateway {
  /** The resolved options. */
  readonly options: Readonly<ResolvedGatewayOptions>;
  private readonly events = new EventEmitter<GatewayEvents>();
  private readonly layout: KeyLayout;
  private readonly cache: ConfigCache;
  private readonly catalog: Catalog;
  private readonly router = new Router();
  private readonly delivery: DeliveryService;
  private readonly providers: Map<string, Provider>;
  private readonly providerValidators: Map<string, ProviderValidator | undefined>;
  private readonly handlers = new Map<string, LocalHandler>();
  private closed = false;
  private closing: Promise<CloseReport> | undefined;

  /** Use {@link createGateway}. */
  constructor(
    /** The store the configuration lives in. */
    readonly store: Store,
    options: GatewayOptions = {},
    private readonly ownsStore = false,
  ) {
    this.options = Object.freeze(resolveOptions(options));
    this.layout = new KeyLayout(this.options.prefix);
    this.catalog = new Catalog(this.layout);
    this.providers = new Map<string, Provider>([
      ['http', new HttpProvider()],
      ['local', new LocalProvider()],
      ...Object.entries(this.options.providers),
    ]);
    this.providerValidators = new Map(
      Object.entries(this.options.providers).map(([type, p]) => [type, p.validate?.bind(p)]),
    );
    this.delivery = new DeliveryService({
      catalog: this.catalog,
      router: this.router,
      providers: this.providers,
      defaultSpace: this.options.space,
      queueSize: this.options.queueSize,
      concurrency: this.options.concurrency,
      functionConcurrency: this.options.functionConcurrency,
      retry: this.options.retry,
      timeout: this.options.timeout,
      onDeadLetter: this.options.onDeadLetter,
      localHandler: (space, functionId) => this.localHandler(space, functionId),
      emitLocal: (name, ...payload) =>
        (this.events.emit as (n: string, ...a: unknown[]) => boolean)(name, ...payload),
      hasLocalListeners: (name) => this.events.listenerCount(name) > 0,
      reportError: (error) => this.events.emit('gateway.error', error),
    });
    this.cache = new ConfigCache(store, this.layout.prefix, {
      pageSize: this.options.listPageSize,
      resyncInterval: this.options.resyncInterval,
    });
    this.cache.on('changes', (changes, revision) => {
      const { applied, invalid } = this.catalog.apply(changes);
      this.router.apply(applied);
      for (const change of applied) this.unbindStaleHandler(change);
      for (const item of invalid) this.events.emit('config.invalid', item);
      if (applied.length > 0) this.events.emit('config.changed', applied, revision);
    });
    this.cache.on('error', (error) => this.events.emit('store.error', error));
    this.cache.on('resync', (reason, repaired) =>
      this.events.emit('store.resync', reason, repaired),
    );
    this.cache.start();
  }

  /** Resolves once the configuration is loaded from the store; reads throw before that. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new GatewayClosedError('The gateway is closed.'));
    return this.cache.ready();
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
   * Stops accepting events, drains pending deliveries (up to the `drainTimeout` option), then
   * stops watching the store and rejects pending writes. Closes the store only if the gateway
   * created it (`createGateway()` without a store). Resolves with what it could not deliver.
   * Idempotent.
   */
  close(): Promise<CloseReport> {
    this.closing ??= (async () => {
      this.closed = true;
      const undelivered = await this.delivery.close(this.options.drainTimeout);
      this.cache.close();
      this.handlers.clear();
      await Promise.all([...this.providers.values()].map((p) => p.close?.()));
      if (this.ownsStore) await this.store.close();
      return { undelivered };
    })();
    return this.closing;
  }

  // ---- events ------------------------------------------------------------------------------

  /**
   * Emits an event: validates it (CloudEvents 1.0; 0.1 is accepted and converted), routes it
   * from the local cache to the async subscriptions of its space, type, method and path, and
   * hands the deliveries to the dispatcher. Resolves with the event ID and the number of
   * deliveries accepted; with `wait: true`, once every delivery finished, with their outcomes.
   * Rejects with ValidationError for an invalid event and BackpressureError when the queue cannot
   * take every delivery (then none is accepted).
   * @example
   * ```ts
   * await gateway.emit({ specversion: '1.0', id: '1', source: '/app', type: 'user.created', data: { name: 'Ada' } });
   * const { outcomes } = await gateway.emit(event, { wait: true });
   * ```
   */
  async emit(
    event: CloudEvent | Record<string, unknown>,
    options: EmitOptions = {},
  ): Promise<EmitResult> {
    if (this.closed) throw new GatewayClosedError('The gateway is closed.');
    if (!this.cache.isReady) await this.ready();
    return this.delivery.emit(event, options);
  }

  /** Counters and gauges of events and deliveries. */
  metrics(): MetricsSnapshot {
    const { dispatcher } = this.delivery;
    return this.delivery.metrics.snapshot({
      queueDepth: dispatcher.queued,
      deliveriesPending: dispatcher.pending,
    });
  }

  /** Receives each delivery attempt's duration (ms); returns a function that stops it. @internal */
  observeAttempts(observer: (ms: number) => void): () => void {
    const observers = this.delivery.metrics.attemptObservers;
    observers.push(observer);
    return () => {
      const i = observers.indexOf(observer);
      if (i >= 0) observers.splice(i, 1);
    };
  }

  /**
   * Listens to a gateway event: system events (`event.received`, `function.invoking`,
   * `function.invoked`, `function.invocationFailed`), configuration changes and store state.
   * @example
   * ```ts
   * gateway.on('function.invoked', ({ functionId, result }) => console.log(functionId, result));
   * ```
   */
  on<K extends keyof GatewayEvents>(name: K, listener: (...args: GatewayEvents[K]) => void): this {
    this.events.on(name, listener as never);
    return this;
  }

  /** Like {@link Gateway.on}, for one call. */
  once<K extends keyof GatewayEvents>(
    name: K,
    listener: (...args: GatewayEvents[K]) => void,
  ): this {
    this.events.once(name, listener as never);
    return this;
  }

  /** Removes a listener added with {@link Gateway.on} or {@link Gateway.once}. */
  off<K extends keyof GatewayEvents>(name: K, listener: (...args: GatewayEvents[K]) => void): this {
    this.events.off(name, listener as never);
    return this;
  }

  // ---- event types -------------------------------------------------------------------------

  /**
   * Creates an event type, optionally guarded by an authorizer function (which must exist).
   * @example
   * ```ts
   * await gateway.createEventType({ name: 'user.created' });
   * ```
   */
  createEventType(input: EventTypeInput): Promise<EventTypeRecord> {
    return this.write((ctx) => eventTypes.planCreateEventType(ctx, input, this.spaceOf(input)));
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
   * handler is given); `http` functions receive events at `provider.url`.
   * @example
   * ```ts
   * await gateway.registerFunction({ functionId: 'hello', handler: async (event) => 'hi' });
   * await gateway.registerFunction({
   *   functionId: 'mailer', type: 'http', provider: { url: 'http://localhost:3000/mail' },
   * });
   * ```
   */
  async registerFunction(input: FunctionInput): Promise<FunctionRecord> {
    const record = await this.write((ctx) =>
      functions.planRegisterFunction(ctx, input, this.spaceOf(input)),
    );
    if (input.handler)
      this.handlers.set(handlerKey(record.space, record.functionId), input.handler);
    return record;
  }

  /** Replaces a function's type, provider and metadata (and, for `local`, its handler here). */
  async updateFunction(input: FunctionInput): Promise<FunctionRecord> {
    const record = await this.write((ctx) =>
      functions.planUpdateFunction(ctx, input, this.spaceOf(input)),
    );
    if (input.handler)
      this.handlers.set(handlerKey(record.space, record.functionId), input.handler);
    return record;
  }

  /** Deletes a function; refused while a subscription or an event type's authorizer uses it. */
  deleteFunction(input: SpaceArgument & { functionId: string }): Promise<void> {
    const id = this.idOf(input, 'functionId', 'function');
    return this.write((ctx) => functions.planDeleteFunction(ctx, this.spaceOf(input), id));
  }

  /** The function, or NotFoundError. */
  getFunction(input: SpaceArgument & { functionId: string }): FunctionRecord {
    const id = this.idOf(input, 'functionId', 'function');
    return functions.requireFunction(this.readContext(), this.spaceOf(input), id);
  }

  /** The space's functions, in ID order, filtered on metadata. */
  listFunctions(input: ListArguments = {}): FunctionRecord[] {
    return this.list('functions', input);
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
    this.handlers.set(handlerKey(this.spaceOf(input), id), input.handler);
  }

  /** The handler bound on this instance for a `local` function. @internal */
  localHandler(space: string, functionId: string): LocalHandler | undefined {
    return this.handlers.get(handlerKey(space, functionId));
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
  subscribe(input: SubscriptionInput): Promise<SubscriptionRecord> {
    return this.write((ctx) => subscriptions.planSubscribe(ctx, input, this.spaceOf(input)));
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
  createCors(input: CorsInput): Promise<CorsRecord> {
    return this.write((ctx) => cors.planCreateCors(ctx, input, this.spaceOf(input)));
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

  /** What the REPL prints: a summary, not internals. */
  [inspect.custom](): string {
    const state = this.closed ? 'closed' : this.isReady ? 'ready' : 'loading';
    return (
      `Gateway { space: '${this.options.space}', store: ${this.store.name}, ${state}, ` +
      `revision: ${this.revision}, eventTypes: ${this.catalog.count('eventtypes')}, ` +
      `functions: ${this.catalog.count('functions')}, subscriptions: ${this.catalog.count('subscriptions')}, ` +
      `cors: ${this.catalog.count('cors')} }`
    );
  }

  // ---- internals ---------------------------------------------------------------------------

  private spaceOf(input: SpaceArgument | undefined): string {
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

  private readContext(): RuleContext {
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
   * Plans a write from the cache, commits it as one transaction, and waits until the cache has
   * applied it. When the store refuses (a concurrent write changed what the plan relied on), the
   * cache catches up to the store's revision and the write is planned again: it then either
   * succeeds or fails with the error the new state calls for.
   */
  private async write<T>(plan: (ctx: RuleContext) => WritePlan<T>): Promise<T> {
    if (this.closed) throw new GatewayClosedError('The gateway is closed.');
    await this.cache.ready();
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
        const what = committed
          ? `The write was committed at revision ${revision}, but`
          : 'The write was not committed and';
        reject(
          new StoreUnavailableError(
            `${what} this instance's cache has not reached that revision within ${timeout} ms (it is at ${this.cache.revision}).`,
          ),
        );
      }, timeout);
      timer.unref();
    });
    return Promise.race([this.cache.waitFor(revision), expired]).finally(() => clearTimeout(timer));
  }

  /** A deleted function, or one no longer `local`, keeps no handler here. */
  private unbindStaleHandler(change: ConfigChange): void {
    if (change.resource !== 'function') return;
    const record = change.record as FunctionRecord | undefined;
    if (!record || record.type !== 'local')
      this.handlers.delete(handlerKey(change.space, change.id));
  }
}

function handlerKey(space: string, functionId: string): string {
  return `${space}\u0000${functionId}`;
}

/**
 * Creates a gateway over a store (a fresh {@link MemoryStore} when none is given) and starts
 * loading its configuration. Writes wait for the load; `await gateway.ready()` before reading.
 *
 * @example
 * ```ts
 * const { createGateway, MemoryStore } = require('event-gateway');
 * const gateway = createGateway(new MemoryStore());
 * await gateway.registerFunction({ functionId: 'hello', handler: async (event) => 'hi' });
 * ```
 */
export function createGateway(store?: Store, options: GatewayOptions = {}): Gateway {
  return store ? new Gateway(store, options) : new Gateway(new MemoryStore(), options, true);
}
