import type { Catalog } from '../cache/catalog';
import { GatewayClosedError, HopLimitError, InvocationError } from '../errors';
import { isValidSpace } from '../model/checks';
import { ValidationError } from '../errors';

import type { SystemEvents } from '../model/system-events';
import { parseCloudEvent, withExtension } from '../events/cloudevent';
import type { CloudEvent } from '../model/cloud-event';
import { acceptData, isAccepted } from '../events/event-data';
import { refuseReservedType } from '../model/system-events';
import { describeError } from '../model/describe-error';
import type { FunctionRecord, LocalHandler } from '../model/function';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import type { Router } from '../router/router';
import type { RouteMatch } from '../router/path-trie';
import { directCall } from './direct-call';
import { OutcomeCollector } from '../pipeline/outcome-collector';
import { SystemEventEmitter } from '../pipeline/system-event-emitter';
import { Dispatcher } from './dispatcher';
import type { EmitOptions, EmitResult } from '../pipeline/emit-options';
import type { ExplainInput, Explanation } from '../pipeline/explanation';
import { Delivery } from './delivery';
import type { DeadLetter } from '../plugins/dead-letter';
import type { Provider } from './provider';
import { resolveRetry, type RetryPolicy } from '../model/retry-options';
import { MatchBudget } from '../model/match-budget';
import { emitTarget, type EmitTarget } from '../pipeline/emit-target';
import type { SubscriptionRecord } from '../model/subscription';
import type { Journal, JournalEntry } from '../journal/journal';
import { journalFailure } from '../journal/journal-failure';
import { WaitingDeliveries, type WaitingReport } from '../journal/waiting-deliveries';
import { DELIVERY_ID } from '../events/gateway-extensions';
import type { IntakeChain, IntakeTarget } from '../intake/intake-chain';
import type { IntakeVia } from '../plugins/intake-plugin';
import type { ArchiveDroppedReport } from '../model/system-events';
import { EventRefusedError, FilterBudgetError, IntakeFailedError } from '../errors';

/** What the delivery service needs from the gateway. */
export interface DeliveryServiceDeps {
  readonly catalog: Catalog;
  readonly router: Router;
  readonly providers: ReadonlyMap<string, Provider>;
  readonly defaultSpace: string;
  readonly queueSize: number;
  readonly concurrency: number;
  readonly functionConcurrency: number;
  readonly retry: RetryPolicy;
  readonly timeout: number;
  /** Deepest nesting of event data and invoke payloads. */
  readonly maxDataDepth: number;
  /** Most times an event may come back through the gateway (its `hopcount`). */
  readonly maxHops: number;
  /** Most steps one event may take to match its candidates' filters. */
  readonly maxFilterWork: number;
  readonly onDeadLetter?: (letter: DeadLetter) => unknown;
  localHandler(space: string, functionId: string): LocalHandler | undefined;
  emitLocal<K extends keyof SystemEvents>(name: K, ...payload: SystemEvents[K]): void;
  hasLocalListeners(name: keyof SystemEvents): boolean;
  /** True when any system event has a local listener (checked first, once per delivery step). */
  hasSystemListeners(): boolean;
  /** Reports a failure that has no caller to go to (a dead-letter hook that threw). */
  reportError(error: Error): void;
  /** Where accepted deliveries are recorded before `emit` resolves, if anywhere. */
  readonly journal?: Journal;
  /** The intake plugins every event from outside passes through. */
  readonly intake: IntakeChain;
}

/** Where an event is emitted: its space, method and path. */
type Where = { space: string; method: string; path: string };

/**
 * Emits events: validates, routes from the cache (no store call), hands the deliveries to the
 * dispatcher, and turns the dispatcher's progress into system events, metrics and dead letters.
 */
export class DeliveryService {
  readonly metrics = new GatewayMetrics();
  readonly dispatcher: Dispatcher;
  private readonly systemEvents: SystemEventEmitter;
  private readonly policies = new WeakMap<FunctionRecord, RetryPolicy>();

  constructor(private readonly deps: DeliveryServiceDeps) {
    this.systemEvents = new SystemEventEmitter({
      ...deps,
      route: (event, space) =>
        void this.route(event, { space, method: 'POST', path: '/' }, 'system'),
    });
    this.dispatcher = new Dispatcher(
      {
        queueSize: deps.queueSize,
        concurrency: deps.concurrency,
        functionConcurrency: deps.functionConcurrency,
      },
      {
        provider: (task) => this.deps.providers.get(task.fn.type),
        currentFunction: (task) =>
          this.deps.catalog.get('functions', task.space, task.fn.functionId),
        localHandler: (task) =>
          task.fn.type === 'local'
            ? this.deps.localHandler(task.space, task.fn.functionId)
            : undefined,
        invoking: (task, attempt) => {
          if (task.deliveryId !== undefined) this.deps.journal?.attempted(task.deliveryId, attempt);
          if (!task.system) {
            this.systemEvents.invoking(task.space, task.fn.functionId, task.event, attempt);
          }
        },
        succeeded: (task, result, attempts, attemptMs) => {
          if (task.deliveryId !== undefined) this.deps.journal?.finished([task.deliveryId]);
          this.metrics.deliveriesSucceeded++;
          this.metrics.functions.of(task.space, task.fn.functionId).succeeded++;
          this.metrics.observeAttempt(attemptMs, task.space, task.fn.functionId);
          if (!task.system) {
            const { space, fn, event } = task;
            this.systemEvents.invoked(space, fn.functionId, event, result, attempts, attemptMs);
            if (this.deps.intake.watchesDeliveries) {
              const { subscriptionId } = task.subscription;
              this.deps.intake.delivered({
                space,
                event,
                subscriptionId,
                functionId: fn.functionId,
                attempts,
              });
            }
          }
        },
        attemptFailed: (task, _error, _attempt, retryIn) => {
          if (retryIn === undefined) return;
          this.metrics.deliveriesRetried++;
          this.metrics.functions.of(task.space, task.fn.functionId).retried++;
        },
        deadLettered: (letter, task, abandoned) => {
          if (task.deliveryId !== undefined && this.deps.journal) {
            // Cut short by close(): the journal keeps it, and the next start delivers it.
            if (abandoned) return;
            this.deps.journal.finished([task.deliveryId]);
          }
          this.deadLettered(letter, task.system);
        },
      },
    );
  }

  /** Calls one function now, once: see {@link directCall}. */
  call(space: string, functionId: string, payload: unknown, shown?: unknown): Promise<unknown> {
    let accepted: unknown;
    try {
      // Copied and frozen like event data: what the caller mutates later is not what was sent.
      accepted = isAccepted(payload)
        ? payload
        : acceptData(payload, this.deps.maxDataDepth, 'payload');
    } catch (error) {
      return Promise.reject(error);
    }
    return directCall(
      { ...this.deps, metrics: this.metrics, system: this.systemEvents },
      space,
      functionId,
      accepted,
      shown,
    );
  }

  /**
   * Validates one event, passes it through the intake plugins (unless `admitted` already, by
   * {@link DeliveryService.admit}) and routes it. See `Gateway.emit`.
   */
  emit(
    input: unknown,
    options: EmitOptions = {},
    via: IntakeVia = 'emit',
    admitted = false,
  ): Promise<EmitResult> {
    let event: CloudEvent;
    let target: EmitTarget;
    try {
      target = emitTarget(options, this.deps.defaultSpace, 'emit(event, options)');
      event = parseCloudEvent(input, this.deps.maxDataDepth, this.deps.maxHops);
      refuseReservedType(event);
    } catch (error) {
      this.metrics.eventsRejected++;
      if (error instanceof HopLimitError) this.looped(error, input, options?.space);
      return Promise.reject(error);
    }
    const mode = options.wait === true ? 'wait' : 'accept';
    if (admitted || !this.deps.intake.screens) return this.route(event, target, mode, via);
    let screened: CloudEvent | Promise<CloudEvent>;
    try {
      screened = this.deps.intake.admit(event, target, via);
    } catch (error) {
      return Promise.reject(this.refused(error, event, target.space));
    }
    if (!(screened instanceof Promise)) return this.route(screened, target, mode, via);
    return screened.then(
      (accepted) => this.route(accepted, target, mode, via),
      (error: unknown) => Promise.reject(this.refused(error, event, target.space)),
    );
  }

  /**
   * Passes a validated event through the intake plugins, for a caller that must see the event
   * they let through before emitting it (the Events API: a batch is screened whole first, a
   * sync function gets the enriched event). Rejects like `emit` when a plugin refuses it.
   */
  async admit(event: CloudEvent, where: IntakeTarget, via: IntakeVia): Promise<CloudEvent> {
    if (!this.deps.intake.screens) return event;
    try {
      return await this.deps.intake.admit(event, where, via);
    } catch (error) {
      throw this.refused(error, event, where.space);
    }
  }

  /** Counts and reports an event a plugin refused (or failed on); returns the error to throw. */
  private refused(error: unknown, event: CloudEvent, space: string): unknown {
    this.metrics.eventsRejected++;
    if (!(error instanceof EventRefusedError || error instanceof IntakeFailedError)) return error;
    this.metrics.eventsRefused++;
    if (this.systemEvents.wants(space, 'refused')) {
      this.systemEvents.emit(space, 'refused', {
        space,
        eventId: event.id,
        code: error.code,
        reason: error.message,
        plugin: error.plugin,
      });
    }
    return error;
  }

  /** Raises the `archive.dropped` system event (an archive's plugin host). */
  archiveDropped(space: string, report: ArchiveDroppedReport): void {
    if (this.systemEvents.wants(space, 'archiveDropped')) {
      this.systemEvents.emit(space, 'archiveDropped', report);
    }
  }

  /** Counts and reports an event refused for looping. */
  private looped(error: HopLimitError, input: unknown, space: string | undefined): void {
    this.metrics.eventsLooped++;
    const where = typeof space === 'string' && isValidSpace(space) ? space : this.deps.defaultSpace;
    if (this.systemEvents.wants(where, 'refused')) {
      let id: unknown;
      try {
        id = (input as { id?: unknown })?.id;
      } catch {
        // a hostile getter: the event is refused all the same
      }
      this.systemEvents.emit(where, 'refused', {
        space: where,
        eventId: typeof id === 'string' ? id : '',
        code: error.code,
        reason: error.message,
      });
    }
  }

  /** A dry run of `emit`: see `Gateway.explain`. Delivers nothing. */
  explain(input: ExplainInput): Explanation {
    const target = emitTarget(input ?? {}, this.deps.defaultSpace, 'explain(input)');
    const event = parseCloudEvent(input?.event, this.deps.maxDataDepth);
    const candidates = this.deps.router.asyncTargets(
      target.space,
      event.type,
      target.method,
      target.path,
    );
    const budget = new MatchBudget(this.deps.maxFilterWork);
    return {
      eventId: event.id,
      eventType: event.type,
      ...target,
      subscriptions: candidates.map(({ value: subscription }) => {
        const miss = subscription.filter
          ? this.deps.router.filterOf(subscription)?.explain(event, budget)
          : undefined;
        return {
          subscriptionId: subscription.subscriptionId,
          functionId: subscription.functionId,
          matched: miss === undefined,
          ...(miss ? { failed: miss } : {}),
        };
      }),
    };
  }

  /**
   * Stops intake, drains, and reports what could not be delivered (with a journal, deliveries
   * still waiting for their function too: they stay in the journal).
   */
  async close(drainTimeout: number): Promise<DeadLetter[]> {
    const waited = this.waiting?.close() ?? [];
    const undelivered = await this.dispatcher.close(drainTimeout);
    for (const entry of waited) {
      const reason = `the gateway closed while the delivery waited for function "${entry.functionId}" to be configured or bound here (it stays in the journal)`;
      undelivered.push({
        space: entry.space,
        event: entry.event,
        subscriptionId: entry.subscriptionId,
        functionId: entry.functionId,
        reason,
        attempts: entry.attempts,
        error: new InvocationError(`Not delivered: ${reason}.`, { retryable: false }),
      });
    }
    return undelivered;
  }

  /**
   * Routes an accepted event and hands its deliveries to the dispatcher. `mode`: `accept` resolves
   * once they are accepted, `wait` once they have all ended; `system` is an event the gateway
   * raised itself (it causes no system event, and what cannot be queued is dead-lettered).
   */
  private route(
    event: CloudEvent,
    { space, method, path }: Where,
    mode: 'accept' | 'wait' | 'system',
    via?: IntakeVia,
  ): Promise<EmitResult> {
    const system = mode === 'system';
    const wait = mode === 'wait';
    // System events are derived from deliveries: only events from outside are journaled. A
    // caller that waits for the outcomes gets them from here, not from a shared journal's consumer.
    const journal = system || (wait && this.deps.journal?.shared) ? undefined : this.deps.journal;
    let targets: readonly RouteMatch<SubscriptionRecord>[];
    try {
      targets = this.matching(
        this.deps.router.asyncTargets(space, event.type, method, path),
        event,
      );
    } catch (error) {
      if (!(error instanceof FilterBudgetError)) throw error;
      // Decided before any delivery exists: none is made.
      return this.unmatched(error, event, space, system);
    }
    const collector = wait ? new OutcomeCollector(targets.length) : undefined;
    const tasks: Delivery[] = [];
    let missing: Delivery[] | undefined;
    for (let index = 0; index < targets.length; index++) {
      const subscription = targets[index].value;
      const fn = this.deps.catalog.get('functions', space, subscription.functionId);
      const deliveryId = journal && fn ? newDeliveryId() : undefined;
      const task = new Delivery({
        space,
        // Each journaled delivery carries its ID: functions can tell a redelivery.
        event: deliveryId ? withExtension(event, DELIVERY_ID, deliveryId) : event,
        subscription,
        fn: fn ?? { space, functionId: subscription.functionId, type: 'local', provider: {} },
        retry: fn ? this.policy(fn) : this.deps.retry,
        timeout: (fn?.provider.timeout as number | undefined) ?? this.deps.timeout,
        system,
        onSettled: collector?.slot(index),
      });
      task.deliveryId = deliveryId;
      if (fn) tasks.push(task);
      else (missing ??= []).push(task);
    }
    if (journal && tasks.length > 0) {
      return this.routeJournaled(
        journal,
        event,
        tasks,
        missing,
        { space, method, path },
        collector,
        via,
      );
    }
    try {
      this.dispatcher.accept(tasks);
    } catch (error) {
      if (!system) {
        this.metrics.eventsRejected++;
        return Promise.reject(error);
      }
      // A system event has no caller to refuse: its deliveries are dead-lettered, not lost.
      missing = (missing ?? []).concat(tasks);
    }
    return this.accepted(event, targets.length, missing, { space, method, path }, collector, via);
  }

  /** Refuses an event whose filters cost too much to match (reported, for a system event). */
  private unmatched(
    error: FilterBudgetError,
    event: CloudEvent,
    space: string,
    system: boolean,
  ): Promise<EmitResult> {
    if (system) {
      const message = `The system event ${event.type} was not delivered: ${error.message}`;
      this.deps.reportError(new Error(message, { cause: error }));
      return Promise.resolve({ eventId: event.id, space, accepted: 0 });
    }
    this.metrics.eventsRejected++;
    if (this.systemEvents.wants(space, 'refused')) {
      const { code, message: reason } = error;
      this.systemEvents.emit(space, 'refused', { space, eventId: event.id, code, reason });
    }
    return Promise.reject(error);
  }

  /** The bookkeeping of an accepted event, and what its `emit` resolves with. */
  /** `via` is undefined for an event the gateway raised itself (a system event). */
  private accepted(
    event: CloudEvent,
    count: number,
    missing: Delivery[] | undefined,
    { space, method, path }: Where,
    collector: OutcomeCollector | undefined,
    via: IntakeVia | undefined,
  ): Promise<EmitResult> {
    this.metrics.eventsReceived++;
    this.metrics.deliveriesAccepted += count;
    if (missing) for (const task of missing) this.deadLetterNow(task);
    if (via !== undefined) {
      if (this.systemEvents.wants(space, 'received')) {
        this.systemEvents.emit(space, 'received', { space, event, path, method });
      }
      this.deps.intake.accepted(event, { space, method, path, via, deliveries: count });
    }
    const result: EmitResult = { eventId: event.id, space, accepted: count };
    return collector
      ? collector.promise.then((outcomes) => ({ ...result, outcomes }))
      : Promise.resolve(result);
  }

  /**
   * Records the deliveries in the journal before accepting them: `emit` resolves once they are
   * durable, and rejects (accepting nothing) when the queue is full or the journal fails. With a
   * shared journal they are made by the instance it hands them to (maybe this one).
   */
  private async routeJournaled(
    journal: Journal,
    event: CloudEvent,
    tasks: Delivery[],
    missing: Delivery[] | undefined,
    where: Where,
    collector: OutcomeCollector | undefined,
    via: IntakeVia | undefined,
  ): Promise<EmitResult> {
    // A shared journal hands the deliveries to whichever instance it assigns: no room here.
    const here = !journal.shared;
    try {
      if (here) this.dispatcher.reserve(tasks.length);
      else if (this.dispatcher.closing) {
        throw new GatewayClosedError('The gateway is closing; it accepts no more events.');
      }
    } catch (error) {
      this.metrics.eventsRejected++;
      throw error;
    }
    const acceptedAt = Date.now();
    try {
      await this.journalOpened;
      await journal.record(
        tasks.map((task) => ({
          deliveryId: task.deliveryId as string,
          space: task.space,
          event: task.event,
          subscriptionId: task.subscription.subscriptionId,
          functionId: task.fn.functionId,
          attempts: 0,
          acceptedAt,
        })),
      );
    } catch (error) {
      if (here) this.dispatcher.unreserve(tasks.length);
      this.metrics.eventsRejected++;
      throw journalFailure(error, 'could not record the event (nothing was accepted)');
    }
    if (here) this.dispatcher.acceptReserved(tasks);
    const count = tasks.length + (missing?.length ?? 0);
    return this.accepted(event, count, missing, where, collector, via);
  }

  /** Set by `resume`: emits wait for the journal to be open. */
  private journalOpened: Promise<unknown> = Promise.resolve();
  /** Deliveries from the journal waiting for their function (see {@link WaitingDeliveries}). */
  private waiting: WaitingDeliveries | undefined;

  /**
   * Opens the journal, which hands this gateway its deliveries: what a previous run left
   * unfinished and, from a shared journal, what this instance is assigned. Called once, when ready.
   * Rejects with JournalUnavailableError (whatever the journal threw) when it cannot open.
   */
  resume(journal: Journal): Promise<void> {
    this.waiting = new WaitingDeliveries({
      wait: journal.waitForFunctions ?? Infinity,
      missing: (entry) => {
        const fn = this.deps.catalog.get('functions', entry.space, entry.functionId);
        if (!fn) return 'function';
        const bound = fn.type !== 'local' || this.deps.localHandler(fn.space, fn.functionId);
        return bound ? undefined : 'handler';
      },
      release: (entries) => this.restore(entries),
      expire: (entry, reason) => this.dispatcher.refuse(this.fromJournal(entry), reason),
    });
    const opened = (async () =>
      journal.open({
        take: (entries) => this.take(entries),
        report: (error) => this.deps.reportError(error),
      }))().catch((error: unknown) => {
      throw journalFailure(error, 'could not open');
    });
    this.journalOpened = opened;
    return opened;
  }

  /**
   * Makes the deliveries from the journal waiting for a function, if it can be called now: called
   * when the function is configured or changed, and when a local handler is bound here.
   */
  functionAvailable(space: string, functionId: string): void {
    this.waiting?.retry(space, functionId);
  }

  /** How many deliveries from the journal wait for their function. */
  get waitingCount(): number {
    return this.waiting?.size ?? 0;
  }

  /** The deliveries from the journal waiting for their function, and which functions. */
  waitingReport(): WaitingReport {
    return this.waiting?.report() ?? { deliveries: 0, functions: [] };
  }

  /**
   * Takes deliveries from the journal, with their attempts and age, whatever the room: they were
   * accepted already (a shared journal bounds what it hands over). Those whose function cannot be
   * called yet wait for it (the journal's `waitForFunctions`).
   */
  private take(entries: readonly JournalEntry[]): Promise<void> {
    if (this.dispatcher.closing) {
      return Promise.reject(
        new GatewayClosedError('The gateway is closing; it takes no deliveries.'),
      );
    }
    this.restore(entries.filter((entry) => !this.waiting?.hold(entry)));
    return Promise.resolve();
  }

  /** Hands deliveries from the journal to the dispatcher; those whose function is gone are dead-lettered. */
  private restore(entries: readonly JournalEntry[]): void {
    const deliveries: Delivery[] = [];
    for (const entry of entries) {
      const task = this.fromJournal(entry);
      if (this.deps.catalog.get('functions', entry.space, entry.functionId)) deliveries.push(task);
      else this.deadLetterNow(task);
    }
    this.dispatcher.restore(deliveries);
  }

  /** A delivery from the journal, with its attempts and age (its function's stand-in if gone). */
  private fromJournal(entry: JournalEntry): Delivery {
    const fn = this.deps.catalog.get('functions', entry.space, entry.functionId);
    const subscription = this.deps.catalog.get(
      'subscriptions',
      entry.space,
      entry.subscriptionId,
    ) ?? {
      space: entry.space,
      subscriptionId: entry.subscriptionId,
      functionId: entry.functionId,
    };
    const task = new Delivery({
      space: entry.space,
      event: entry.event,
      subscription: subscription as SubscriptionRecord,
      fn: fn ?? { space: entry.space, functionId: entry.functionId, type: 'local', provider: {} },
      retry: fn ? this.policy(fn) : this.deps.retry,
      timeout: (fn?.provider.timeout as number | undefined) ?? this.deps.timeout,
      system: false,
    });
    task.deliveryId = entry.deliveryId;
    task.attempts = entry.attempts;
    // Its age goes on across the restart (a firstAt before this process began is fine).
    task.firstAt =
      performance.now() - Math.max(0, Date.now() - entry.acceptedAt) || Number.MIN_VALUE;
    return task;
  }

  /**
   * The subscriptions among the candidates whose filter the event matches. Filters run after the
   * (space, type, method, path) lookup: their cost never depends on other types' subscriptions.
   */
  private matching<T extends { readonly value: SubscriptionRecord }>(
    candidates: readonly T[],
    event: CloudEvent,
  ): readonly T[] {
    let out: T[] | undefined;
    // One budget for all the candidates' filters, made at the first one.
    let budget: MatchBudget | undefined;
    for (let i = 0; i < candidates.length; i++) {
      const subscription = candidates[i].value;
      const filter = subscription.filter && this.deps.router.filterOf(subscription);
      if (filter && !filter.matches(event, (budget ??= new MatchBudget(this.deps.maxFilterWork)))) {
        // The first miss copies the matches so far; without filters nothing is allocated.
        out ??= candidates.slice(0, i);
      } else out?.push(candidates[i]);
    }
    return out ?? candidates;
  }

  private policy(fn: FunctionRecord): RetryPolicy {
    let policy = this.policies.get(fn);
    if (!policy) {
      try {
        policy = resolveRetry(fn.retry, this.deps.retry, (detail) => {
          throw new ValidationError(detail);
        });
      } catch {
        policy = this.deps.retry; // validated at registration; a foreign record falls back
      }
      this.policies.set(fn, policy);
    }
    return policy;
  }

  /** Dead-letters a delivery that could not even be queued, saying why. */
  private deadLetterNow(task: Delivery): void {
    const known = this.deps.catalog.get('functions', task.space, task.fn.functionId);
    this.dispatcher.refuse(
      task,
      known
        ? 'the delivery queue was full when this system event was raised'
        : `function "${task.fn.functionId}" is not in this instance's configuration`,
    );
  }

  private deadLettered(letter: DeadLetter, system: boolean): void {
    this.metrics.deliveriesDeadLettered++;
    this.metrics.functions.of(letter.space, letter.functionId).deadLettered++;
    const hook = this.deps.onDeadLetter;
    if (hook) {
      try {
        Promise.resolve(hook(letter)).catch((error: unknown) => this.hookFailed(error));
      } catch (error) {
        this.hookFailed(error);
      }
    }
    if (!system) {
      const { space, functionId, event, error, reason, attempts } = letter;
      this.systemEvents.invocationFailed(space, functionId, event, error, reason, attempts);
      this.deps.intake.deadLettered(letter);
    }
  }

  private hookFailed(error: unknown): void {
    const err = new Error(`The onDeadLetter hook failed: ${describeError(error)}`, {
      cause: error,
    });
    this.deps.reportError(err);
  }
}

function newDeliveryId(): string {
  // Required here: only gateways with a journal load node:crypto.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
  return (require('node:crypto') as typeof import('node:crypto')).randomUUID();
}
