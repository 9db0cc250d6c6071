import { BackpressureError, GatewayClosedError, InvocationError } from '../errors';
import type { CloudEvent } from '../events/cloudevent';
import type { FunctionRecord } from '../model/function';
import type { SubscriptionRecord } from '../model/subscription';
import type { RetryPolicy } from '../model/retry-options';
import { backoffDelay } from './backoff';

/** One event to deliver to one subscription's function. */
export interface DeliveryTask {
  readonly space: string;
  readonly event: CloudEvent;
  readonly subscription: SubscriptionRecord;
  readonly fn: FunctionRecord;
  readonly retry: RetryPolicy;
  /** Each attempt's timeout, in ms. */
  readonly timeout: number;
  /** A delivery of a system event: it causes no further system events. */
  readonly system: boolean;
  /** Called once with the final outcome (for `emit(..., { wait: true })`). */
  readonly onSettled?: (outcome: DeliveryOutcome) => void;
}

/** How one delivery ended. */
export type DeliveryOutcome =
  | {
      readonly ok: true;
      readonly subscriptionId: string;
      readonly functionId: string;
      /** What the function answered. */
      readonly result: unknown;
      readonly attempts: number;
      /** From the first attempt's start to the end of the successful one, in ms. */
      readonly durationMs: number;
    }
  | {
      readonly ok: false;
      readonly subscriptionId: string;
      readonly functionId: string;
      /** The last attempt's error. */
      readonly error: InvocationError;
      readonly attempts: number;
      readonly durationMs: number;
    };

/** A delivery that failed for good, handed to the `onDeadLetter` hook. */
export interface DeadLetter {
  readonly space: string;
  readonly event: CloudEvent;
  readonly subscriptionId: string;
  readonly functionId: string;
  /** Why it failed, in words. */
  readonly reason: string;
  /** The last status the function answered, if any. */
  readonly lastStatus?: number;
  readonly attempts: number;
  readonly error: InvocationError;
}

/** What the dispatcher needs from its owner. */
export interface DispatcherHooks {
  invoke(task: DeliveryTask, attempt: number, signal: AbortSignal): Promise<unknown>;
  invoking(task: DeliveryTask, attempt: number): void;
  succeeded(task: DeliveryTask, result: unknown, attempts: number, attemptMs: number): void;
  attemptFailed(
    task: DeliveryTask,
    error: InvocationError,
    attempt: number,
    retryInMs?: number,
  ): void;
  deadLettered(letter: DeadLetter, task: DeliveryTask): void;
}

/** Options of the {@link Dispatcher}. */
export interface DispatcherOptions {
  /** Deliveries waiting (queued or between retries) beyond those running. */
  readonly queueSize: number;
  /** Deliveries running at once. */
  readonly concurrency: number;
  /** Deliveries running at once to any one function. */
  readonly functionConcurrency: number;
}

interface Delivery {
  readonly task: DeliveryTask;
  lane: Lane;
  attempts: number;
  readonly firstAt: number;
  controller?: AbortController;
  retryTimer?: NodeJS.Timeout;
}

/** One function's queue: lanes are served in turn, so no function waits behind another's backlog. */
interface Lane {
  readonly key: string;
  readonly queue: Delivery[];
  head: number;
  active: number;
  /** True while the lane is in the ready ring. */
  ready: boolean;
}

/**
 * Runs deliveries with a bounded queue and a fixed number at once, one lane per function served
 * in turn, each lane capped, so that a slow or failing function never holds up the others.
 * Failures that may pass are
 * retried with exponential backoff and full jitter (a Retry-After is a floor) while attempts and
 * age allow; the rest are dead-lettered. Nothing is dropped: a full queue refuses new work,
 * and `close()` reports whatever it could not finish.
 */
export class Dispatcher {
  private readonly lanes = new Map<string, Lane>();
  /** Lanes with queued deliveries, served round-robin from `cursor`. */
  private readonly ring: Lane[] = [];
  private cursor = 0;
  private queuedCount = 0;
  private active = 0;
  private readonly running = new Set<Delivery>();
  private readonly waiting = new Set<Delivery>();
  private closing = false;
  /** Past the drain timeout: nothing is retried any more. */
  private aborting = false;
  /** Dead letters of deliveries that close() cut short. */
  private readonly abandoned: DeadLetter[] = [];
  private idle: (() => void) | undefined;

  constructor(
    private readonly options: DispatcherOptions,
    private readonly hooks: DispatcherHooks,
  ) {}

  /** Deliveries accepted and not yet finished (queued, running, or between retries). */
  get pending(): number {
    return this.queuedCount + this.running.size + this.waiting.size;
  }

  /** Deliveries waiting in the queue. */
  get queued(): number {
    return this.queuedCount;
  }

  /** Accepts every task, or none: throws BackpressureError when they do not all fit. */
  accept(tasks: readonly DeliveryTask[]): void {
    if (this.closing)
      throw new GatewayClosedError('The gateway is closing; it accepts no more events.');
    const room = this.options.queueSize + this.options.concurrency - this.pending;
    if (tasks.length > room) {
      throw new BackpressureError(
        `The delivery queue is full: ${tasks.length} deliveries needed, room for ${Math.max(0, room)} (${this.pending} pending). Nothing was accepted; retry later.`,
      );
    }
    const now = Date.now();
    for (const task of tasks) {
      this.enqueue({ task, lane: this.lane(task), attempts: 0, firstAt: now });
    }
    this.pump();
  }

  /**
   * Stops intake, waits up to `drainTimeout` ms for what is pending, then aborts the rest and
   * dead-letters it. Resolves with every delivery it could not finish.
   */
  async close(drainTimeout: number): Promise<DeadLetter[]> {
    this.closing = true;
    if (this.pending > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainTimeout);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.aborting = true;
    const reason = `the gateway closed before the delivery finished (drain timeout ${drainTimeout} ms)`;
    for (const delivery of this.waiting) {
      clearTimeout(delivery.retryTimer);
      this.abandon(delivery, reason);
    }
    this.waiting.clear();
    for (const lane of this.ring) {
      while (lane.head < lane.queue.length) this.abandon(lane.queue[lane.head++], reason);
      lane.queue.length = lane.head = 0;
      lane.ready = false;
    }
    this.ring.length = this.queuedCount = 0;
    if (this.running.size > 0) {
      // Running deliveries are aborted; each dead-letters itself as it settles.
      const settled = new Promise<void>((resolve) => (this.idle = resolve));
      for (const delivery of this.running) delivery.controller?.abort(new Error(reason));
      await settled;
    }
    return this.abandoned.splice(0);
  }

  private abandon(delivery: Delivery, reason: string): void {
    const error = new InvocationError(`Not delivered: ${reason}.`, { retryable: false });
    this.deadLetter(delivery, error, reason);
  }

  private lane(task: DeliveryTask): Lane {
    const key = `${task.space}\u0000${task.fn.functionId}`;
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { key, queue: [], head: 0, active: 0, ready: false }));
    return lane;
  }

  private enqueue(delivery: Delivery): void {
    const { lane } = delivery;
    lane.queue.push(delivery);
    this.queuedCount++;
    if (!lane.ready) {
      lane.ready = true;
      this.ring.push(lane);
    }
  }

  /** Starts deliveries while slots are free, taking lanes in turn and skipping full ones. */
  private pump(): void {
    let skipped = 0;
    while (this.active < this.options.concurrency && skipped < this.ring.length) {
      if (this.cursor >= this.ring.length) this.cursor = 0;
      const lane = this.ring[this.cursor];
      if (lane.active >= this.options.functionConcurrency) {
        this.cursor++;
        skipped++;
        continue;
      }
      skipped = 0;
      const delivery = lane.queue[lane.head++];
      this.queuedCount--;
      if (lane.head === lane.queue.length) {
        lane.queue.length = lane.head = 0;
        lane.ready = false;
        this.ring.splice(this.cursor, 1);
      } else {
        if (lane.head > 1024 && lane.head * 2 > lane.queue.length) {
          lane.queue.splice(0, lane.head);
          lane.head = 0;
        }
        this.cursor++;
      }
      void this.run(delivery);
    }
  }

  private async run(delivery: Delivery): Promise<void> {
    const { task } = delivery;
    const attempt = ++delivery.attempts;
    this.active++;
    delivery.lane.active++;
    this.running.add(delivery);
    const controller = new AbortController();
    delivery.controller = controller;
    // Ref'd on purpose: a delivery in flight is work the process must finish or report.
    const timer = setTimeout(() => controller.abort(new TimeoutSignal(task.timeout)), task.timeout);
    const started = performance.now();
    let result: unknown;
    let failure: InvocationError | undefined;
    try {
      this.hooks.invoking(task, attempt);
      result = await this.hooks.invoke(task, attempt, controller.signal);
    } catch (error) {
      failure = this.classify(task, error, controller.signal);
    } finally {
      clearTimeout(timer);
      delivery.controller = undefined;
      this.running.delete(delivery);
      this.active--;
      delivery.lane.active--;
      if (delivery.lane.active === 0 && !delivery.lane.ready) this.lanes.delete(delivery.lane.key);
    }
    const elapsed = performance.now() - started;
    if (!failure) {
      this.hooks.succeeded(task, result, attempt, elapsed);
      task.onSettled?.({
        ok: true,
        subscriptionId: task.subscription.subscriptionId,
        functionId: task.fn.functionId,
        result,
        attempts: attempt,
        durationMs: Date.now() - delivery.firstAt,
      });
    } else {
      this.failed(delivery, failure);
    }
    this.pump();
    if (this.pending === 0) this.idle?.();
  }

  private failed(delivery: Delivery, error: InvocationError): void {
    const { task, attempts } = delivery;
    const policy = task.retry;
    let reason: string | undefined;
    let delay = 0;
    if (this.aborting) {
      reason = `the gateway closed while it was being delivered: ${error.message}`;
    } else if (!error.retryable) {
      reason = `a final failure: ${error.message}`;
    } else if (attempts >= policy.maxAttempts) {
      reason = `${attempts} attempts failed; the last: ${error.message}`;
    } else {
      delay = backoffDelay(policy, attempts, error.retryAfter);
      if (Date.now() + delay - delivery.firstAt > policy.maxAge) {
        reason = `retrying in ${delay} ms would pass maxAge (${policy.maxAge} ms); the last failure: ${error.message}`;
      }
    }
    if (reason !== undefined) {
      this.hooks.attemptFailed(task, error, attempts);
      this.deadLetter(delivery, error, reason);
      return;
    }
    this.hooks.attemptFailed(task, error, attempts, delay);
    this.waiting.add(delivery);
    delivery.retryTimer = setTimeout(() => {
      this.waiting.delete(delivery);
      delivery.lane = this.lane(delivery.task);
      this.enqueue(delivery);
      this.pump();
    }, delay);
  }

  private deadLetter(delivery: Delivery, error: InvocationError, reason: string): void {
    const { task, attempts } = delivery;
    const letter: DeadLetter = {
      space: task.space,
      event: task.event,
      subscriptionId: task.subscription.subscriptionId,
      functionId: task.fn.functionId,
      reason,
      ...(error.statusCode !== undefined ? { lastStatus: error.statusCode } : {}),
      attempts,
      error,
    };
    if (this.aborting) this.abandoned.push(letter);
    this.hooks.deadLettered(letter, task);
    task.onSettled?.({
      ok: false,
      subscriptionId: letter.subscriptionId,
      functionId: letter.functionId,
      error,
      attempts,
      durationMs: Date.now() - delivery.firstAt,
    });
  }

  /** Turns whatever an attempt threw into an InvocationError that says whether to retry. */
  private classify(task: DeliveryTask, error: unknown, signal: AbortSignal): InvocationError {
    const ids = { resource: 'function' as const, id: task.fn.functionId, space: task.space };
    if (signal.aborted && signal.reason instanceof TimeoutSignal) {
      return new InvocationError(
        `Function "${task.fn.functionId}" timed out after ${task.timeout} ms.`,
        { retryable: true, cause: error, ...ids },
      );
    }
    if (signal.aborted) {
      return new InvocationError(
        `Function "${task.fn.functionId}" was aborted: ${(signal.reason as Error).message}.`,
        {
          retryable: false,
          cause: error,
          ...ids,
        },
      );
    }
    if (error instanceof InvocationError) return error;
    const err = error as Error & { retryable?: boolean };
    return new InvocationError(
      `Function "${task.fn.functionId}" failed: ${err?.message ?? String(error)}`,
      {
        retryable: err?.retryable !== false,
        cause: error,
        ...ids,
      },
    );
  }
}

/** The abort reason of a timed-out attempt. */
class TimeoutSignal extends Error {
  constructor(timeout: number) {
    super(`timed out after ${timeout} ms`);
  }
}
