import type { Catalog } from '../cache/catalog';
import type { Delivery } from '../delivery/delivery';
import { directCall } from '../delivery/direct-call';
import { Dispatcher } from '../delivery/dispatcher';
import type { Provider } from '../delivery/provider';
import { FilterBudgetError } from '../errors';
import { parseCloudEvent } from '../events/cloudevent';
import { acceptData, isAccepted } from '../events/event-data';
import type { IntakeChain } from '../intake/intake-chain';
import type { Journal } from '../journal/journal';
import type { WaitingReport } from '../journal/waiting-deliveries';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import type { CloudEvent } from '../model/cloud-event';
import type { FunctionRecord, LocalHandler } from '../model/function';
import type { RetryPolicy } from '../model/retry-options';
import type {
  ArchiveDroppedReport,
  ConnectionRefusedNotice,
  SystemEvents,
} from '../model/system-events';
import type { DeadLetter } from '../plugins/dead-letter';
import type { AcceptedEvent } from '../plugins/accepted-event';
import type { IntakeVia } from '../plugins/intake-plugin';
import type { Router } from '../router/router';
import type { DeliveryTrace } from '../tracing/delivery-trace';
import type { GatewayTracing, TraceSource } from '../tracing/gateway-tracing';
import { AcceptStage, type Accepted, type AcceptTarget } from './accept';
import { NO_EMIT_OPTIONS, type EmitOptions, type EmitResult } from './emit-options';
import { defaultTarget, emitTarget } from './emit-target';
import type { ExplainInput, Explanation } from './explanation';
import { OutcomeCollector } from './outcome-collector';
import { Outcomes, type Where } from './outcomes';
import { recordDeliveries } from './record';
import { JournalResume } from './resume';
import { RouteStage } from './route';
import { Admitted, ScreenStage } from './screen';
import { SystemEventEmitter } from './system-event-emitter';

/** What the pipeline needs from the gateway. */
export interface PipelineDeps {
  readonly catalog: Catalog;
  readonly router: Router;
  readonly providers: ReadonlyMap<string, Provider>;
  readonly defaultSpace: string;
  readonly queueSize: number;
  readonly concurrency: number;
  readonly functionConcurrency: number;
  /** See `GatewayOptions.spaceQueueSize`. */
  readonly spaceQueueSize?: number;
  /** See `GatewayOptions.spaceConcurrency`. */
  readonly spaceConcurrency?: number;
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
  /** The gateway's tracing, when it traces. */
  readonly tracing?: GatewayTracing;
}

/** How a dispatched event's promise settles: once accepted, once all ended, or a system event. */
type Mode = 'accept' | 'wait' | 'system';

/**
 * One way for every event, whoever brings it (`emit`, the Events API, replay, sources):
 * accept (parse once, with the gateway's limits) -> screen (intake plugins) -> route (router,
 * filters) -> record (journal) -> dispatch (the Dispatcher) -> outcomes (metrics, system events,
 * plugin hooks, dead letters). Each stage is its own module; this composes them.
 */
export class Pipeline {
  readonly dispatcher: Dispatcher;
  private readonly outcomes: Outcomes;
  private readonly systemEvents: SystemEventEmitter;
  private readonly accepting: AcceptStage;
  private readonly screening: ScreenStage;
  private readonly routing: RouteStage;
  private readonly resuming: JournalResume;
  /**
   * Local handlers by function record, found by identity (the gateway's lookup, two string-keyed
   * Maps behind two closures on every attempt, cost ~30 ns in place). Emptied when a handler is
   * bound and whenever the catalog applies changes (which unbind stale ones).
   */
  private handlers = new WeakMap<FunctionRecord, LocalHandler | undefined>();
  private handlersAt = -1;

  constructor(private readonly deps: PipelineDeps) {
    this.systemEvents = new SystemEventEmitter({
      ...deps,
      route: (event, space) =>
        void this.route(event, { space, method: 'POST', path: '/' }, 'system'),
    });
    const outcomes = (this.outcomes = new Outcomes({ ...deps, systemEvents: this.systemEvents }));
    this.dispatcher = new Dispatcher(
      {
        queueSize: deps.queueSize,
        concurrency: deps.concurrency,
        functionConcurrency: deps.functionConcurrency,
        spaceQueueSize: deps.spaceQueueSize,
        spaceConcurrency: deps.spaceConcurrency,
      },
      {
        provider: (task) => deps.providers.get(task.fn.type),
        currentFunction: (task) => deps.catalog.get('functions', task.space, task.fn.functionId),
        localHandler: (task) => (task.fn.type === 'local' ? this.handlerOf(task) : undefined),
        invoking: (task, attempt) => outcomes.invoking(task, attempt),
        succeeded: (task, result, attempts, ms) => outcomes.succeeded(task, result, attempts, ms),
        attemptFailed: (task, error, attempt, retryIn) =>
          outcomes.attemptFailed(task, error, attempt, retryIn),
        deadLettered: (letter, task, abandoned) => outcomes.deadLettered(letter, task, abandoned),
        otherSpaces: (space) => this.otherSpaces(space),
      },
    );
    this.accepting = new AcceptStage({ ...deps, outcomes });
    this.screening = new ScreenStage({ intake: deps.intake, outcomes });
    this.routing = new RouteStage(deps);
    this.resuming = new JournalResume({
      ...deps,
      dispatcher: this.dispatcher,
      fromJournal: (entry) => this.routing.fromJournal(entry),
      deadLetterNow: (task) => this.deadLetterNow(task),
    });
  }

  /** The configured spaces as of a catalog version (listed again only once it changed). */
  private spaces: { readonly version: number; readonly names: readonly string[] } = {
    version: -1,
    names: [],
  };

  /** Whether the configuration holds spaces other than `space`: their share of the dispatcher is kept. */
  private otherSpaces(space: string): boolean {
    const { catalog } = this.deps;
    if (this.spaces.version !== catalog.version) {
      this.spaces = { version: catalog.version, names: catalog.spaces() };
    }
    const { names } = this.spaces;
    return names.length > 1 || (names.length === 1 && names[0] !== space);
  }

  /** Counters of events and deliveries. */
  get metrics(): GatewayMetrics {
    return this.outcomes.metrics;
  }

  /** The accept stage: see {@link AcceptStage.accept}. */
  accept(
    input: unknown,
    target: AcceptTarget,
    via: IntakeVia,
    what?: string,
    untrusted?: boolean,
    trace?: TraceSource,
  ): Accepted {
    return this.accepting.accept(input, target, via, what, untrusted, trace);
  }

  /** The screen stage, for one event: see {@link ScreenStage.screen}. */
  screen(accepted: AcceptedEvent): Admitted | Promise<Admitted> {
    return this.screening.screen(accepted);
  }

  /** The screen stage, for a batch screened whole: see {@link ScreenStage.screenAll}. */
  screenAll(accepted: readonly AcceptedEvent[]): Promise<Admitted[]> {
    return this.screening.screenAll(accepted);
  }

  /**
   * Routes an admitted event, records its deliveries (with a journal) and hands them to the
   * dispatcher. Resolves once they are accepted or, with `wait`, once they all ended.
   */
  dispatch(admitted: Admitted, wait = false): Promise<EmitResult> {
    // A look-alike was not screened: only the screen stage makes an Admitted.
    if (!(admitted instanceof Admitted)) {
      return Promise.reject(new TypeError('Only events from the screen stage can be dispatched.'));
    }
    // An admitted event is its own Where (space, method, path): nothing more is made.
    const { trace } = admitted;
    const routed = this.route(
      admitted.event,
      admitted,
      wait ? 'wait' : 'accept',
      admitted.via,
      trace,
    );
    return trace ? trace.settle(routed) : routed;
  }

  /** Accepts, screens and dispatches one event: see `Gateway.emit`. */
  emit(
    input: unknown,
    options: EmitOptions = NO_EMIT_OPTIONS,
    via: IntakeVia = 'emit',
  ): Promise<EmitResult> {
    let accepted: Accepted;
    let screened: Admitted | Promise<Admitted>;
    const wait = options?.wait === true;
    try {
      // The stages run back to back here, so without a plugin that screens events the event
      // goes straight on to routing: untraced, the common emit makes neither an Accepted nor an
      // Admitted, only the event (its target is the shared default when it names none).
      if (!this.screening.screens && this.deps.tracing === undefined) {
        const where = this.accepting.where(input, options);
        const event = this.accepting.event(input, options);
        return this.route(event, where, wait ? 'wait' : 'accept', via);
      }
      accepted = this.accepting.accept(input, options, via);
      if (!this.screening.screens) {
        const { trace } = accepted;
        const routed = this.route(accepted.event, accepted, wait ? 'wait' : 'accept', via, trace);
        return trace ? trace.settle(routed) : routed;
      }
      screened = this.screening.screen(accepted);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!(screened instanceof Promise)) return this.dispatch(screened, wait);
    return screened.then((admitted) => this.dispatch(admitted, wait));
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
    const { metrics, systemEvents: system } = this;
    return directCall({ ...this.deps, metrics, system }, space, functionId, accepted, shown);
  }

  /** A dry run of `emit`: see `Gateway.explain`. Delivers nothing, counts nothing. */
  explain(input: ExplainInput): Explanation {
    const target = emitTarget(input ?? {}, defaultTarget(this.deps.defaultSpace), 'explain(input)');
    const event = parseCloudEvent(input?.event, this.deps.maxDataDepth);
    return this.routing.explain(event, target);
  }

  /** The functions an accepted event would be delivered to (a replay's dry run). */
  wouldDeliver(accepted: AcceptedEvent): string[] {
    return this.routing
      .explain(accepted.event, accepted)
      .subscriptions.filter((s) => s.matched)
      .map((s) => s.functionId);
  }

  /** Raises the `archive.dropped` system event (an archive's plugin host). */
  archiveDropped(space: string, report: ArchiveDroppedReport): void {
    this.outcomes.archiveDropped(space, report);
  }

  /** Raises `connection.refused` for a message a connection pulled (see the sources). */
  connectionRefused(notice: ConnectionRefusedNotice): void {
    this.outcomes.connectionRefused(notice);
  }

  /** Opens the journal and resumes its deliveries: see {@link JournalResume.resume}. */
  resume(journal: Journal): Promise<void> {
    return this.resuming.resume(journal);
  }

  /** A function was configured or bound here: deliveries from the journal may wait for it. */
  functionAvailable(space: string, functionId: string): void {
    this.handlers = new WeakMap();
    this.resuming.functionAvailable(space, functionId);
  }

  /** The handler bound here for a local delivery's function, as bound now. */
  private handlerOf(task: Delivery): LocalHandler | undefined {
    const { version } = this.deps.catalog;
    if (version !== this.handlersAt) {
      this.handlers = new WeakMap();
      this.handlersAt = version;
    }
    const { fn } = task;
    let handler = this.handlers.get(fn);
    if (handler === undefined && !this.handlers.has(fn)) {
      handler = this.deps.localHandler(task.space, fn.functionId);
      this.handlers.set(fn, handler);
    }
    return handler;
  }

  /** How many deliveries from the journal wait for their function. */
  get waitingCount(): number {
    return this.resuming.waitingCount;
  }

  /** The deliveries from the journal waiting for their function, and which functions. */
  waitingReport(): WaitingReport {
    return this.resuming.waitingReport();
  }

  /**
   * Stops intake, drains, and reports what could not be delivered (with a journal, deliveries
   * still waiting for their function too: they stay in the journal), then waits up to
   * `drainTimeout` ms more for the `onDeadLetter` hooks still running.
   */
  async close(drainTimeout: number): Promise<DeadLetter[]> {
    const waited = this.resuming.close();
    const undelivered = await this.dispatcher.close(drainTimeout);
    undelivered.push(...waited);
    // The dead letters being reported: their deliveries end (in the journal) once reported.
    await this.outcomes.hooksSettled(drainTimeout);
    return undelivered;
  }

  /**
   * Routes an event and hands its deliveries to the dispatcher. `mode`: `accept` resolves once
   * they are accepted, `wait` once they have all ended; `system` is an event the gateway raised
   * itself (it causes no system event, and what cannot be queued is dead-lettered).
   */
  private route(
    event: CloudEvent,
    where: Where,
    mode: Mode,
    via?: IntakeVia,
    trace?: DeliveryTrace,
  ): Promise<EmitResult> {
    const system = mode === 'system';
    const wait = mode === 'wait';
    const { space } = where;
    // System events are derived from deliveries: only events from outside are journaled. A
    // caller that waits for the outcomes gets them from here, not from a shared journal's consumer.
    const journal = system || (wait && this.deps.journal?.shared) ? undefined : this.deps.journal;
    let targets;
    try {
      targets = this.routing.match(event, where);
    } catch (error) {
      if (!(error instanceof FilterBudgetError)) throw error;
      // Decided before any delivery exists: none is made.
      if (system) {
        const message = `The system event ${event.type} was not delivered: ${error.message}`;
        this.deps.reportError(new Error(message, { cause: error }));
        return Promise.resolve({ eventId: event.id, space, accepted: 0 });
      }
      this.outcomes.unmatched(error, event, space);
      return Promise.reject(error);
    }
    const collector = wait ? new OutcomeCollector(targets.length) : undefined;
    const settled = collector && ((index: number) => collector.slot(index));
    const tasks = new Array<Delivery>(targets.length);
    let missing = this.routing.deliveries(event, space, targets, system, !!journal, tasks, settled);
    if (trace) for (const task of tasks) task.trace = trace;
    if (journal && tasks.length > 0) {
      return recordDeliveries(journal, this.dispatcher, tasks, this.resuming.opened).then(
        () =>
          this.accepted(
            event,
            tasks.length + (missing?.length ?? 0),
            missing,
            where,
            collector,
            via,
          ),
        (error: unknown) => {
          this.outcomes.rejected();
          throw error;
        },
      );
    }
    try {
      this.dispatcher.accept(tasks);
    } catch (error) {
      if (!system) {
        this.outcomes.rejected();
        return Promise.reject(error);
      }
      // A system event has no caller to refuse: its deliveries are dead-lettered, not lost.
      missing = (missing ?? []).concat(tasks);
    }
    return this.accepted(event, targets.length, missing, where, collector, via);
  }

  /** The bookkeeping of an accepted event, and what its `emit` resolves with. */
  private accepted(
    event: CloudEvent,
    count: number,
    missing: Delivery[] | undefined,
    where: Where,
    collector: OutcomeCollector | undefined,
    via: IntakeVia | undefined,
  ): Promise<EmitResult> {
    if (missing) for (const task of missing) this.deadLetterNow(task);
    this.outcomes.accepted(event, count, where, via);
    const result: EmitResult = { eventId: event.id, space: where.space, accepted: count };
    return collector
      ? collector.promise.then((outcomes) => ({ ...result, outcomes }))
      : Promise.resolve(result);
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
}
