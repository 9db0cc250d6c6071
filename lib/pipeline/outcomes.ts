import type { Delivery } from '../delivery/delivery';
import type { InvocationError } from '../errors';
import { EventRefusedError, HopLimitError, IntakeFailedError } from '../errors';
import type { IntakeChain } from '../intake/intake-chain';
import type { Journal } from '../journal/journal';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import type { CloudEvent } from '../model/cloud-event';
import type { FunctionRecord } from '../model/function';
import { describeError } from '../model/describe-error';
import type { ArchiveDroppedReport, ConnectionRefusedNotice } from '../model/system-events';
import type { DeadLetter } from '../plugins/dead-letter';
import type { IntakeVia } from '../plugins/intake-plugin';
import type { SystemEventEmitter } from './system-event-emitter';

/** One function's counters in the metrics. */
type FunctionCounts = ReturnType<GatewayMetrics['functions']['of']>;

/** Where an event was emitted: its space, method and path. */
export interface Where {
  readonly space: string;
  readonly method: string;
  readonly path: string;
}

/** What the outcome stage needs. */
export interface OutcomeDeps {
  readonly systemEvents: SystemEventEmitter;
  readonly intake: IntakeChain;
  /** Where deliveries are recorded, if anywhere: it hears their attempts and ends. */
  readonly journal?: Journal;
  readonly onDeadLetter?: (letter: DeadLetter) => unknown;
  /** Reports a failure that has no caller to go to (a dead-letter hook that threw). */
  reportError(error: Error): void;
}

/**
 * The last stage of the pipeline: what follows from each step of an event and its deliveries,
 * in one place: metrics, system events, the plugins' outcome hooks, the journal's bookkeeping,
 * archives' dropped reports, dead letters and the `onDeadLetter` hook. Nothing here decides
 * anything about the event: it is told what happened.
 */
export class Outcomes {
  readonly metrics = new GatewayMetrics();
  /**
   * Each function record's counts, found by the record's identity: one WeakMap lookup (~10 ns)
   * where the counters' own is two string-keyed Maps (~20-30 ns), once per delivery. Weak: a
   * replaced record's entry goes with it.
   */
  private readonly counts = new WeakMap<FunctionRecord, FunctionCounts>();
  /** `onDeadLetter` hooks that returned a promise not yet settled. */
  private readonly hooksRunning = new Set<Promise<void>>();

  constructor(private readonly deps: OutcomeDeps) {}

  get systemEvents(): SystemEventEmitter {
    return this.deps.systemEvents;
  }

  /** An event refused at accept (invalid, reserved, looping): counted, and reported when looping. */
  rejectedAtAccept(error: unknown, input: unknown, space: string): void {
    this.metrics.eventsRejected++;
    if (!(error instanceof HopLimitError)) return;
    this.metrics.eventsLooped++;
    if (this.deps.systemEvents.wants(space, 'refused')) {
      let id: unknown;
      try {
        id = (input as { id?: unknown })?.id;
      } catch {
        // a hostile getter: the event is refused all the same
      }
      this.deps.systemEvents.emit(space, 'refused', {
        space,
        eventId: typeof id === 'string' ? id : '',
        code: error.code,
        reason: error.message,
      });
    }
  }

  /** Counts and reports an event a plugin refused (or failed on); returns the error to throw. */
  refused(error: unknown, event: CloudEvent, space: string): unknown {
    this.metrics.eventsRejected++;
    if (!(error instanceof EventRefusedError || error instanceof IntakeFailedError)) return error;
    this.metrics.eventsRefused++;
    if (this.deps.systemEvents.wants(space, 'refused')) {
      this.deps.systemEvents.emit(space, 'refused', {
        space,
        eventId: event.id,
        code: error.code,
        reason: error.message,
        plugin: error.plugin,
      });
    }
    return error;
  }

  /** An event refused after it was screened (its filters too costly, no room, the journal failed). */
  rejected(): void {
    this.metrics.eventsRejected++;
  }

  /** Reports an event refused because its filters cost too much, with its error's code. */
  unmatched(error: { code: string; message: string }, event: CloudEvent, space: string): void {
    this.metrics.eventsRejected++;
    if (this.deps.systemEvents.wants(space, 'refused')) {
      const { code, message: reason } = error;
      this.deps.systemEvents.emit(space, 'refused', { space, eventId: event.id, code, reason });
    }
  }

  /**
   * The bookkeeping of an accepted event: its counts, `event.received` and the plugins'
   * `accepted` hook. `via` is undefined for an event the gateway raised itself (a system event).
   */
  accepted(event: CloudEvent, count: number, where: Where, via: IntakeVia | undefined): void {
    this.metrics.eventsReceived++;
    this.metrics.deliveriesAccepted += count;
    if (via === undefined) return;
    const { space, method, path } = where;
    if (this.deps.systemEvents.wants(space, 'received')) {
      this.deps.systemEvents.emit(space, 'received', { space, event, path, method });
    }
    if (this.deps.intake.hearsAccepted) {
      this.deps.intake.accepted(event, { space, method, path, via, deliveries: count });
    }
  }

  /** Raises the `archive.dropped` system event (an archive's plugin host). */
  archiveDropped(space: string, report: ArchiveDroppedReport): void {
    if (this.deps.systemEvents.wants(space, 'archiveDropped')) {
      this.deps.systemEvents.emit(space, 'archiveDropped', report);
    }
  }

  /** Raises `connection.refused` (the refusal itself was counted where the event was refused). */
  connectionRefused(notice: ConnectionRefusedNotice): void {
    if (this.deps.systemEvents.wants(notice.space, 'connectionRefused')) {
      this.deps.systemEvents.emit(notice.space, 'connectionRefused', notice);
    }
  }

  /** The dispatcher is about to make an attempt. */
  invoking(task: Delivery, attempt: number): void {
    if (task.deliveryId !== undefined) this.deps.journal?.attempted(task.deliveryId, attempt);
    if (!task.system) {
      this.deps.systemEvents.invoking(task.space, task.fn.functionId, task.event, attempt);
    }
  }

  /** A delivery succeeded. */
  succeeded(task: Delivery, result: unknown, attempts: number, attemptMs: number): void {
    if (task.deliveryId !== undefined) this.deps.journal?.finished([task.deliveryId]);
    this.metrics.deliveriesSucceeded++;
    this.countsOf(task).succeeded++;
    this.metrics.observeAttempt(attemptMs, task.space, task.fn.functionId);
    if (task.system) return;
    const { space, fn, event } = task;
    this.deps.systemEvents.invoked(space, fn.functionId, event, result, attempts, attemptMs);
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

  /** An attempt failed; `retryIn` is set when another follows. */
  attemptFailed(task: Delivery, _error: InvocationError, _attempt: number, retryIn?: number): void {
    if (retryIn === undefined) return;
    this.metrics.deliveriesRetried++;
    this.countsOf(task).retried++;
  }

  /**
   * A delivery failed for good; `abandoned` when close() cut it short (a journal keeps it). A
   * journaled delivery is marked finished once its `onDeadLetter` hook has settled: killed while
   * the hook runs (it writes the letter somewhere), the next start resumes it and reports it
   * again, rather than losing the report with the delivery already ended.
   */
  deadLettered(letter: DeadLetter, task: Delivery, abandoned: boolean): void {
    const journal = task.deliveryId !== undefined ? this.deps.journal : undefined;
    // Cut short by close(): the journal keeps it, and the next start delivers it.
    if (journal && abandoned) return;
    this.metrics.deliveriesDeadLettered++;
    this.metrics.functions.of(letter.space, letter.functionId).deadLettered++;
    const hook = this.deadLetterHook(letter);
    if (journal) {
      const ids = [task.deliveryId as string];
      if (hook) {
        hook
          .then(() => journal.finished(ids))
          .catch((error: unknown) =>
            this.deps.reportError(
              new Error(`The journal failed to mark a delivery finished: ${describeError(error)}`, {
                cause: error,
              }),
            ),
          );
      } else journal.finished(ids);
    }
    if (!task.system) {
      const { space, functionId, event, error, reason, attempts } = letter;
      this.deps.systemEvents.invocationFailed(space, functionId, event, error, reason, attempts);
      this.deps.intake.deadLettered(letter);
    }
  }

  /**
   * Waits up to `timeout` ms for the `onDeadLetter` hooks still running (close(), before the
   * journal closes: a hook that ends later leaves its delivery in the journal, reported again on
   * the next start).
   */
  async hooksSettled(timeout: number): Promise<void> {
    if (this.hooksRunning.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.hooksRunning),
      new Promise((resolve) => (timer = setTimeout(resolve, timeout))),
    ]);
    clearTimeout(timer);
  }

  /** Calls `onDeadLetter`; returns its settling when it returned a promise (never rejects). */
  private deadLetterHook(letter: DeadLetter): Promise<void> | undefined {
    const hook = this.deps.onDeadLetter;
    if (!hook) return undefined;
    let result: unknown;
    try {
      result = hook(letter);
      if (result === null || (typeof result !== 'object' && typeof result !== 'function')) {
        return undefined;
      }
    } catch (error) {
      this.hookFailed(error);
      return undefined;
    }
    const running: Promise<void> = Promise.resolve(result)
      .then(
        () => undefined,
        (error: unknown) => this.hookFailed(error),
      )
      .finally(() => this.hooksRunning.delete(running));
    this.hooksRunning.add(running);
    return running;
  }

  private countsOf(task: Delivery): FunctionCounts {
    const { fn } = task;
    let counts = this.counts.get(fn);
    if (counts === undefined) {
      counts = this.metrics.functions.of(task.space, fn.functionId);
      this.counts.set(fn, counts);
    }
    return counts;
  }

  private hookFailed(error: unknown): void {
    const err = new Error(`The onDeadLetter hook failed: ${describeError(error)}`, {
      cause: error,
    });
    this.deps.reportError(err);
  }
}
