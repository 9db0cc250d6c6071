import { inspect } from 'node:util';
import { keepAliveWhile } from './model/keep-alive';
import type { AddressInfo } from 'node:net';
import { ConfigurationApi } from './config/configuration-api';
import { Pipeline } from './pipeline/pipeline';
import { checkStore } from './gateway/check-store';
import { closeProviders, gatewayProviders } from './gateway/providers';
import type { CloseReport, GatewayEvents, GatewayHealth } from './gateway/gateway-types';
import { delegateConfiguration, type ConfigurationMethods } from './gateway/configuration-methods';
import type { Admitted } from './pipeline/screen';
import type { AcceptedEvent } from './plugins/accepted-event';
import { NO_EMIT_OPTIONS, type EmitOptions, type EmitResult } from './pipeline/emit-options';
import type { ExplainInput, Explanation } from './pipeline/explanation';
import type { Provider } from './delivery/provider';
import { GatewayClosedError, ValidationError } from './errors';
import type { CloudEvent } from './model/cloud-event';
import { IsolatedEmitter, listenerError } from './events/isolated-emitter';
import { describeError } from './model/describe-error';
import type { MetricsSnapshot } from './metrics/gateway-metrics';
import { resolveOptions, type GatewayOptions, type ResolvedGatewayOptions } from './options';
import { Router } from './router/router';
import { MemoryStore } from './store/memory-store';
import type { Store } from './store/store';

import type { SpaceArgument } from './config/configuration-api';
import type { CorsRecord } from './model/cors';
import type { EventTypeRecord } from './model/event-type';
import type { LocalHandler } from './model/function';
import { JournalLink } from './gateway/journal-link';
import { claimJournal } from './journal/claim-journal';
import { ListenedEvents } from './gateway/listened-events';
import type { FunctionMetrics } from './metrics/function-counters';
import type { AttemptObserver } from './metrics/gateway-metrics';
import { IntakeChain } from './intake/intake-chain';
import type { IntakePlugin, IntakeVia } from './plugins/intake-plugin';
import type { ReplayOptions, ReplayProgress } from './sinks/replay';
import type { GatewayTracing, TraceSource } from './tracing/gateway-tracing';
import { acceptTraceOf } from './tracing/accept-trace';
import { GatewayConnections } from './gateway/gateway-connections';
import { listenToCache } from './gateway/listen-to-cache';
import { loadTracing } from './gateway/load-tracing';

// The configuration methods are the configuration API's: declared from it, delegated to it.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- its members are ConfigurationMethods, installed by delegateConfiguration
export interface Gateway extends ConfigurationMethods {}

/**
 * An Event Gateway instance: the configuration API over a store, answered from a local cache
 * that a store watch keeps in step. Create it with {@link createGateway}.
 *
 * Reads are synchronous and never call the store. Writes validate, commit to the store
 * atomically (with referential integrity under concurrent writers), then resolve once this
 * instance's cache has applied them, so a write is visible to the next read here.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- the interface above declares the delegated methods
export class Gateway {
  /** The resolved options. */
  readonly options: Readonly<ResolvedGatewayOptions>;
  /** The store the configuration lives in. */
  readonly store: Store;
  /** The configuration API this gateway's configuration methods delegate to. */
  private readonly config: ConfigurationApi;

  static {
    delegateConfiguration(Gateway.prototype, (gateway) => gateway.config);
  }
  private readonly events = new IsolatedEmitter<GatewayEvents>((name, error) =>
    this.reportError(listenerError(name, error), name === 'gateway.error'),
  );
  private readonly router = new Router();
  private readonly pipeline: Pipeline;
  /** This gateway's tracing, when it traces (decided once, here). @internal */
  readonly tracing: GatewayTracing | undefined;
  private readonly providers: Map<string, Provider>;
  private readonly journal: JournalLink | undefined;
  private readonly intake: IntakeChain;
  /** The connections this instance runs (none with `connections: false`). */
  private readonly connections: GatewayConnections | undefined;
  private closing: Promise<CloseReport> | undefined;
  /** Which local events have listeners (checked per delivery). */
  private readonly listened = new ListenedEvents((name) =>
    this.events.listenerCount(name as keyof GatewayEvents),
  );

  /** Use {@link createGateway}. */
  constructor(
    store: Store,
    options: GatewayOptions = {},
    private readonly ownsStore = false,
  ) {
    const resolved: ResolvedGatewayOptions = Object.freeze(resolveOptions(options));
    if (resolved.journal) claimJournal(resolved.journal);
    this.options = resolved;
    this.store = store;
    this.config = new ConfigurationApi(
      store,
      resolved,
      new Map(Object.entries(resolved.providers).map(([type, p]) => [type, p.validate?.bind(p)])),
      // A handler bound here may be what deliveries from the journal wait for.
      (space, functionId) => this.pipeline.functionAvailable(space, functionId),
    );
    this.providers = gatewayProviders(resolved, store);
    this.intake = new IntakeChain({
      reportError: (error) => this.reportError(error),
      archiveDropped: (space, report) => this.pipeline.archiveDropped(space, report),
    });
    for (const plugin of resolved.plugins) this.intake.add(plugin);
    this.pipeline = new Pipeline({
      catalog: this.config.catalog,
      router: this.router,
      providers: this.providers,
      defaultSpace: resolved.space,
      queueSize: resolved.queueSize,
      concurrency: resolved.concurrency,
      functionConcurrency: resolved.functionConcurrency,
      spaceQueueSize: resolved.spaceQueueSize,
      spaceConcurrency: resolved.spaceConcurrency,
      retry: resolved.retry,
      timeout: resolved.timeout,
      maxDataDepth: resolved.maxDataDepth,
      maxHops: resolved.maxHops,
      maxFilterWork: resolved.maxFilterWork,
      onDeadLetter: resolved.onDeadLetter,
      localHandler: (space, functionId) => this.config.localHandler(space, functionId),
      emitLocal: (name, ...payload) =>
        (this.events.emit as (n: string, ...a: unknown[]) => void)(name, ...payload),
      hasLocalListeners: (name) => this.listened.has(name),
      hasSystemListeners: () => this.listened.hasSystem(),
      reportError: (error) => this.reportError(error),
      journal: resolved.journal,
      intake: this.intake,
      tracing: (this.tracing = loadTracing(resolved.tracing)),
    });
    // Deliveries are resumed once the configuration (their functions) is loaded.
    if (resolved.journal)
      this.journal = new JournalLink(resolved.journal, this.config.cache, this.pipeline);
    this.connections =
      resolved.connections === false
        ? undefined
        : new GatewayConnections({
            options: resolved,
            store,
            config: this.config,
            pipeline: this.pipeline,
            accept: (event, where, via) => this.accept(event, where, via),
            dispatch: (admitted) => this.dispatch(admitted),
            reportError: (error) => this.reportError(error),
          });
    const { config, router, pipeline, connections, events, listened } = this;
    listenToCache({ config, router, pipeline, connections, events, listened });
    this.config.cache.start();
    this.connections?.startOnceReady();
  }

  /**
   * Stops accepting events, drains pending deliveries (up to the `drainTimeout` option), then
   * stops watching the store and rejects pending writes. Closes the store only if the gateway
   * created it (`createGateway()` without a store). Resolves with what it could not deliver.
   * Idempotent.
   */
  close(): Promise<CloseReport> {
    this.closing ??= (async () => {
      // Sources first, while events are still taken: what they have in flight is accepted, or
      // given back to its source past the drain.
      await this.connections?.close();
      this.config.closed = true;
      const undelivered = await this.pipeline.close(this.options.drainTimeout);
      // Once deliveries are done (their outcome hooks heard): archives flush what they hold.
      await this.intake.close(this.options.drainTimeout);
      // What close() cut short stays in the journal: the next start delivers it.
      await this.journal?.journal
        .close()
        .catch((error: unknown) =>
          this.reportError(
            new Error(`The journal failed to close: ${describeError(error)}`, { cause: error }),
          ),
        );
      this.config.cache.close();
      this.config.handlers.clear();
      await closeProviders(this.providers.values(), (error) => this.reportError(error));
      if (this.ownsStore) await this.store.close();
      return { undelivered };
    })();
    return this.closing;
  }

  /**
   * Reports a failure that has no caller to go to: as a `gateway.error` event, or, when nobody
   * listens (or a `gateway.error` listener itself failed), as a process warning: never silently,
   * and never by throwing into the host.
   * @internal
   */
  reportError(error: Error, fromErrorListener = false): void {
    if (!fromErrorListener && this.events.listenerCount('gateway.error') > 0) {
      this.events.emit('gateway.error', error);
    } else {
      process.emitWarning(error.message, {
        type: 'EventGatewayWarning',
        code: 'EVENT_GATEWAY_ERROR',
      });
    }
  }

  /** True once the configuration is loaded. */
  get isReady(): boolean {
    return this.config.isReady;
  }

  /** The store revision this instance's configuration reflects. */
  get revision(): number {
    return this.config.revision;
  }

  // ---- events ------------------------------------------------------------------------------

  /**
   * Resolves once the configuration is loaded and, with a journal, once the journal is open and
   * its unfinished deliveries resumed. See {@link ConfigurationApi.ready}.
   */
  ready(): Promise<void> {
    const loaded = this.config.ready();
    const journal = this.journal?.opened;
    // Held like every awaited operation: a script awaiting ready() gets its answer.
    return journal ? keepAliveWhile(loaded.then(() => journal).then(() => undefined)) : loaded;
  }

  /**
   * Emits an event: validates it (CloudEvents 1.0; 0.1 is accepted and converted), routes it
   * from the local cache to the async subscriptions of its space, type, method and path, and
   * hands the deliveries to the dispatcher. Resolves with the event ID and the number of
   * deliveries accepted; with `wait: true`, once every delivery finished, with their outcomes.
   * Rejects with ValidationError for an invalid event and BackpressureError when the queue cannot
   * take every delivery (then none is accepted). With a journal, resolves once the deliveries are
   * recorded, and rejects with JournalUnavailableError (accepting nothing) when it cannot.
   * @example
   * ```ts
   * await gateway.emit({ specversion: '1.0', id: '1', source: '/app', type: 'user.created', data: { name: 'Ada' } });
   * const { outcomes } = await gateway.emit(event, { wait: true });
   * ```
   */
  emit(
    event: CloudEvent | Record<string, unknown>,
    options: EmitOptions = NO_EMIT_OPTIONS,
  ): Promise<EmitResult> {
    if (this.config.closed) return Promise.reject(new GatewayClosedError('The gateway is closed.'));
    // Ready (the common case): no closure, no empty options object per emit.
    if (this.config.cache.isReady) return this.pipeline.emit(event, options, 'emit');
    return this.ready().then(() => this.pipeline.emit(event, options, 'emit'));
  }

  /**
   * The pipeline's first stage for a way in other than `emit` (the Events API, replay, sources):
   * parses the event once with this gateway's limits, counts its hop, and removes the extensions
   * only the gateway sets (it comes from outside). Throws ValidationError or HopLimitError.
   * @internal
   */
  accept(
    input: unknown,
    where: { space: string; method: string; path: string },
    via: IntakeVia,
    trace?: TraceSource,
  ): AcceptedEvent {
    if (this.config.closed) throw new GatewayClosedError('The gateway is closed.');
    return this.pipeline.accept(input, where, via, undefined, true, trace);
  }

  /**
   * Passes accepted events through the intake plugins, a batch whole before any of it is
   * dispatched: resolves with them as the plugins let them through, or rejects with
   * EventRefusedError or IntakeFailedError (one refusal refuses all). @internal
   */
  screen(accepted: readonly AcceptedEvent[]): Promise<Admitted[]> {
    if (this.config.closed) return Promise.reject(new GatewayClosedError('The gateway is closed.'));
    return this.pipeline.screenAll(accepted);
  }

  /** Routes and delivers an event the plugins admitted (see {@link Gateway.screen}). @internal */
  dispatch(admitted: Admitted, options: { wait?: boolean } = {}): Promise<EmitResult> {
    if (this.config.closed) return Promise.reject(new GatewayClosedError('The gateway is closed.'));
    const run = () => this.pipeline.dispatch(admitted, options.wait === true);
    return this.config.cache.isReady ? run() : this.ready().then(run);
  }

  /**
   * Keeps every function away from an endpoint (`'host:port'`, a URL, or a listening server's
   * `address()`): deliveries there fail for good, whoever registered the function. The gateway
   * protects its store's endpoints by itself, and the adapters the ports they serve as requests
   * arrive; call this for a port it serves before any request has come, or for anything else
   * on the host's network that answers to the gateway's privileges.
   * @example
   * ```ts
   * server.listen(4000, () => gateway.protectEndpoint(server.address() as AddressInfo));
   * ```
   */
  protectEndpoint(endpoint: string | AddressInfo): void {
    this.options.outboundPolicies.protectedEndpoints.add(endpoint);
  }

  /**
   * Adds an intake plugin after those already in use (see the `plugins` option): it sees every
   * event from outside before routing, and the outcome of each. Throws ValidationError for a
   * malformed plugin or a name in use.
   * @example
   * ```ts
   * gateway.use({ name: 'no-test-events', onEvent: (e) => (e.source === '/test' ? { refuse: 'test events are not taken', status: 400 } : undefined) });
   * gateway.use(new S3Archive({ bucket: 'events' }));
   * ```
   */
  use(plugin: IntakePlugin): this {
    if (this.config.closed) throw new GatewayClosedError('The gateway is closed.');
    this.intake.add(plugin);
    return this;
  }

  /**
   * Reads an archive's events of a time window and emits them again, in the order they were
   * accepted, through the intake plugins (as `replay`), each marked with the replay's ID (the
   * `eventgatewayreplay` extension: archives do not keep them twice, functions can tell).
   * Archived records are screened like Events API clients: the gateway-only extensions they carry
   * are removed, and the authorizer of an event's type runs again (it gets the event and the
   * archived method and path, with no headers); an event it refuses is counted refused. Resolves
   * with the totals (read, emitted, refused, deliveries); `onProgress` hears them as it goes.
   * With `dryRun`, counts the deliveries that would be made, per function, and sends nothing.
   * @example
   * ```ts
   * const archive = new S3Archive({ bucket: 'events' });
   * const totals = await gateway.replay({ source: archive, from: '2026-11-27T00:00:00Z', type: 'order.placed', rate: 500 });
   * // { replayId: '…', read: 1200, emitted: 1200, refused: 0, deliveries: 2400 }
   * ```
   */
  async replay(options: ReplayOptions): Promise<ReplayProgress> {
    if (this.config.closed) throw new GatewayClosedError('The gateway is closed.');
    await this.ready();
    // Traced: the replayed events' acceptance spans are children of the replay's.
    const trace = this.tracing?.replaying({
      'event_gateway.replay.archive': String(options?.source?.name),
      'event_gateway.replay.dry_run': options?.dryRun === true ? 'true' : 'false',
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
    const { replay } = require('./sinks/replay') as typeof import('./sinks/replay');
    const replayed = replay(
      {
        accept: (event, { space, method, path }) =>
          this.accept(event, { space, method, path }, 'replay', trace),
        findEventType: (space, name) => this.findEventType(space, name),
        callFunction: (space, functionId, payload) => this.callFunction(space, functionId, payload),
        reportError: (error) => this.reportError(error),
        emit: async (accepted) => {
          try {
            const [admitted] = await this.screen([accepted]);
            return (await this.dispatch(admitted)).accepted;
          } catch (error) {
            acceptTraceOf(accepted)?.failed(error);
            throw error;
          }
        },
        wouldDeliver: (accepted) => {
          const functions = this.pipeline.wouldDeliver(accepted);
          acceptTraceOf(accepted)?.accepted(0); // a dry run delivers nothing
          return functions;
        },
      },
      options,
    );
    if (!trace) return replayed;
    return replayed.then(
      (totals) => (trace.end(totals), totals),
      (error: unknown) => {
        trace.end(undefined, error);
        throw error;
      },
    );
  }

  /**
   * A dry run of `emit`: validates the event and lists every candidate async subscription of its
   * space, type, method and path, whether its filter matches, and for a miss the first field and
   * operator that failed. Delivers nothing; reads only this instance's cache.
   * @example
   * ```ts
   * const { subscriptions } = gateway.explain({ event: { specversion: '1.0', id: '1', source: '/shop', type: 'order.placed', data: { amount: 5 } } });
   * // [{ subscriptionId, functionId: 'big-orders', matched: false, failed: { field: 'data.amount', operator: 'numeric' } }]
   * ```
   */
  explain(input: ExplainInput): Explanation {
    this.config.readContext(); // throws before the configuration is loaded, or once closed
    return this.pipeline.explain(input);
  }

  /**
   * Calls a function once, now, with `payload` (for a local handler, its first argument; for an
   * http function, the JSON body), and resolves with its result: no queue, no retries, the
   * function's timeout. Sync subscriptions and authorizers use it. Rejects with InvocationError.
   * @example
   * ```ts
   * const answer = await gateway.invoke({ functionId: 'hello', payload: { name: 'Ada' } });
   * ```
   */
  invoke(input: SpaceArgument & { functionId: string; payload?: unknown }): Promise<unknown> {
    if (typeof input !== 'object' || input === null || typeof input.functionId !== 'string') {
      return Promise.reject(
        new ValidationError('invoke({ functionId, payload? }): "functionId" must be a string.'),
      );
    }
    return this.callFunction(this.config.spaceOf(input), input.functionId, input.payload);
  }

  /**
   * Calls a function once, now (see {@link Gateway.invoke}); `shown` is what system events show
   * in place of the payload. @internal
   */
  callFunction(
    space: string,
    functionId: string,
    payload: unknown,
    shown?: unknown,
  ): Promise<unknown> {
    if (this.config.closed) return Promise.reject(new GatewayClosedError('The gateway is closed.'));
    const run = () => this.pipeline.call(space, functionId, payload, shown);
    return this.config.cache.isReady ? run() : this.ready().then(run);
  }

  /** The sync subscription answering a request, if any. @internal */
  syncRoute(
    space: string,
    eventType: string,
    method: string,
    path: string,
  ): { functionId: string; params: Record<string, string>; writer?: 'tenant' } | undefined {
    const match = this.router.syncTarget(space, eventType, method, path);
    if (!match) return undefined;
    const { functionId } = match.value;
    const writer = this.config.catalog.get('functions', space, functionId)?.writer;
    return { functionId, params: { ...match.params }, ...(writer ? { writer } : {}) };
  }

  /** The CORS configuration of a request's method and path, if any. @internal */
  corsFor(space: string, method: string, path: string): CorsRecord | undefined {
    return this.router.corsFor(space, method, path);
  }

  /** The handler bound on this instance for a `local` function. @internal */
  localHandler(space: string, functionId: string): LocalHandler | undefined {
    return this.config.localHandler(space, functionId);
  }

  /** The event type, or undefined (no error). @internal */
  findEventType(space: string, name: string): EventTypeRecord | undefined {
    return this.config.catalog.get('eventtypes', space, name);
  }

  /**
   * Readiness and the state of the store link, for health checks: routing goes on from the last
   * good configuration while the store is unreachable.
   */
  health(): GatewayHealth {
    const heard = this.config.cache.lastHeardAt;
    const lastError = this.config.cache.lastError;
    const journal = this.journal?.health();
    return {
      // With a journal, ready as `ready()` is: once it is open, and while it records.
      ready:
        this.config.cache.isReady &&
        !this.config.closed &&
        (!journal || (this.journal?.ready ?? false)),
      revision: this.config.cache.revision,
      store: this.store.name,
      watching: this.config.cache.watching,
      sinceHeardMs: heard === 0 ? undefined : Date.now() - heard,
      resyncs: this.config.cache.resyncCount,
      ...(lastError !== undefined ? { lastError } : {}),
      pendingDeliveries: this.pipeline.dispatcher.pending,
      ...(journal ? { journal } : {}),
      ...(this.connections ? { connections: this.connections.health() } : {}),
    };
  }

  /** Every configuration key and value this instance holds, for consistency checks. @internal */
  configSnapshot(): Record<string, string> {
    return this.config.catalog.snapshot();
  }

  /** Counters and gauges of events and deliveries. */
  metrics(): MetricsSnapshot {
    const { dispatcher } = this.pipeline;
    return this.pipeline.metrics.snapshot({
      queueDepth: dispatcher.queued,
      deliveriesPending: dispatcher.pending,
      ...this.journal?.metrics(),
      plugins: this.intake.metrics(),
    });
  }

  /**
   * Delivery counts per function (succeeded, retried, dead-lettered), for metrics labelled by
   * space and function. Bounded: past 1,000 functions the rest are counted as `(other)`.
   * @example
   * ```ts
   * gateway.functionMetrics(); // [{ space: 'default', functionId: 'mailer', succeeded: 12, retried: 1, deadLettered: 0 }]
   * ```
   */
  functionMetrics(): FunctionMetrics[] {
    return this.pipeline.metrics.functions.snapshot();
  }

  /**
   * Receives each delivery attempt's duration (ms) with its function's labels; returns a function
   * that stops it. @internal
   */
  observeAttempts(observer: AttemptObserver): () => void {
    const observers = this.pipeline.metrics.attemptObservers;
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
    this.events.on(name, listener);
    this.listened.changed();
    return this;
  }

  /** Like {@link Gateway.on}, for one call. */
  once<K extends keyof GatewayEvents>(
    name: K,
    listener: (...args: GatewayEvents[K]) => void,
  ): this {
    this.events.once(name, listener);
    this.listened.changed();
    return this;
  }

  /** Removes a listener added with {@link Gateway.on} or {@link Gateway.once}. */
  off<K extends keyof GatewayEvents>(name: K, listener: (...args: GatewayEvents[K]) => void): this {
    this.events.off(name, listener);
    this.listened.changed();
    return this;
  }

  /** What the REPL prints: a summary, not internals. */
  [inspect.custom](): string {
    const state = this.config.closed ? 'closed' : this.isReady ? 'ready' : 'loading';
    return (
      `Gateway { space: '${this.options.space}', store: ${this.store.name}, ${state}, ` +
      `revision: ${this.revision}, ${this.config.counts()} }`
    );
  }
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
  if (store === undefined || store === null) return new Gateway(new MemoryStore(), options, true);
  checkStore(store);
  return new Gateway(store, options);
}
