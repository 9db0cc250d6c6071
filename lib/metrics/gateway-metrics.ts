import { FunctionCounters } from './function-counters';
import { Histogram, type HistogramSnapshot } from './histogram';
import type { PluginMetrics } from './plugin-metrics';

/** What `gateway.metrics()` returns: counters since the gateway started, and current gauges. */
export interface MetricsSnapshot {
  /** Events that passed validation and were routed (system events included). */
  readonly eventsReceived: number;
  /** Events refused: invalid, no room in the queue, or refused by an intake plugin. */
  readonly eventsRejected: number;
  /** Events refused because they looped (past `maxHops`); also counted in `eventsRejected`. */
  readonly eventsLooped: number;
  /** Events an intake plugin refused or failed on; also counted in `eventsRejected`. */
  readonly eventsRefused: number;
  /** Deliveries accepted by the dispatcher. */
  readonly deliveriesAccepted: number;
  /** Deliveries that succeeded. */
  readonly deliveriesSucceeded: number;
  /** Failed attempts followed by a retry. */
  readonly deliveriesRetried: number;
  /** Deliveries that failed for good (every one reached the dead-letter hook). */
  readonly deliveriesDeadLettered: number;
  /** Direct calls (sync subscriptions, authorizers) that succeeded. */
  readonly callsSucceeded: number;
  /** Direct calls that failed (the HTTP request got a 500). */
  readonly callsFailed: number;
  /** Deliveries waiting in the queue now. */
  readonly queueDepth: number;
  /** Deliveries accepted and not finished now (queued, running, between retries). */
  readonly deliveriesPending: number;
  /** Unfinished deliveries in the journal (only with the `journal` option). */
  readonly journalEntries?: number;
  /** Bytes of the records the journal holds, for a journal that counts them (the local one). */
  readonly journalBytes?: number;
  /** Journal records that could not be read: set aside (kept for inspection) or passed over. */
  readonly journalDamaged?: number;
  /** Deliveries from the journal waiting for their function to be configured or bound here. */
  readonly journalWaiting?: number;
  /** Duration of each attempt, in ms. */
  readonly attemptDuration: HistogramSnapshot;
  /** Each intake plugin's figures, in the order they run (empty without plugins). */
  readonly plugins: readonly PluginMetrics[];
}

/** Receives an attempt's duration in ms, with its function's labels. */
export type AttemptObserver = (ms: number, space: string, functionId: string) => void;

/** The counters behind {@link MetricsSnapshot}; cheap enough for the hot path. */
export class GatewayMetrics {
  eventsReceived = 0;
  eventsRejected = 0;
  eventsLooped = 0;
  eventsRefused = 0;
  deliveriesAccepted = 0;
  deliveriesSucceeded = 0;
  deliveriesRetried = 0;
  deliveriesDeadLettered = 0;
  callsSucceeded = 0;
  callsFailed = 0;
  readonly attemptDuration = new Histogram();
  /** Counts per function, bounded (see {@link FunctionCounters}). */
  readonly functions = new FunctionCounters();
  /** Called with each attempt's duration in ms and its function (the Prometheus bridge). */
  readonly attemptObservers: AttemptObserver[] = [];

  observeAttempt(ms: number, space: string, functionId: string): void {
    this.attemptDuration.observe(ms);
    if (this.attemptObservers.length === 0) return;
    // Past the bound, the function is labelled as the rest are.
    const { space: s, functionId: f } = this.functions.of(space, functionId);
    for (const observer of this.attemptObservers) observer(ms, s, f);
  }

  snapshot(gauges: {
    queueDepth: number;
    deliveriesPending: number;
    journalEntries?: number;
    journalBytes?: number;
    journalDamaged?: number;
    journalWaiting?: number;
    plugins: readonly PluginMetrics[];
  }): MetricsSnapshot {
    return {
      eventsReceived: this.eventsReceived,
      eventsRejected: this.eventsRejected,
      eventsLooped: this.eventsLooped,
      eventsRefused: this.eventsRefused,
      deliveriesAccepted: this.deliveriesAccepted,
      deliveriesSucceeded: this.deliveriesSucceeded,
      deliveriesRetried: this.deliveriesRetried,
      deliveriesDeadLettered: this.deliveriesDeadLettered,
      callsSucceeded: this.callsSucceeded,
      callsFailed: this.callsFailed,
      ...gauges,
      attemptDuration: this.attemptDuration.snapshot(),
    };
  }
}
