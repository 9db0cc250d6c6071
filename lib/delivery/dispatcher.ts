import { BackpressureError, GatewayClosedError, InvocationError } from '../errors';
import type { FunctionRecord, LocalHandler } from '../model/function';
import { backoffDelay } from './backoff';
import {
  Attempt,
  invocationFailure,
  startAttempt,
  timedOut,
  TimeoutSignal,
  type AttemptListener,
} from './attempt';
import type { DeadLetter } from '../plugins/dead-letter';
import { Delivery, type DeliveryTask, type Lane, type SpaceSlots } from './delivery';
import type { Provider } from './provider';
import { StretchClock } from './stretch-clock';

/**
 * How long deliveries may start one after another before the dispatcher lets the event loop turn
 * (timers, I/O), in ms. Local handlers that settle synchronously or through microtasks would
 * otherwise never yield: two handlers emitting each other's events would freeze the host.
 */
const TURN_BUDGET_MS = 10;
/**
 * Deliveries started between two looks at the clock. Small: a start can cost milliseconds when
 * its system events (`function.invoking`) carry a large event through costly filters, and 16 such
 * starts went past 50 ms in one turn; a look costs ~25 ns.
 */
const CLOCK_EVERY = 4;

/** What the dispatcher needs from its owner. */
export interface DispatcherHooks {
  /**
   * The provider of the task's function type, if this instance has one: asked once per function
   * record (the record's lane keeps it), so it must depend on the type alone.
   */
  provider(task: Delivery): Provider | undefined;
  invoking(task: Delivery, attempt: number): void;
  /** The handler bound on this instance for a local function's task. */
  localHandler(task: Delivery): LocalHandler | undefined;
  /** The function's configuration now (undefined: deleted), read before each retry. */
  currentFunction(task: Delivery): FunctionRecord | undefined;
  succeeded(task: Delivery, result: unknown, attempts: number, attemptMs: number): void;
  attemptFailed(task: Delivery, error: InvocationError, attempt: number, retryInMs?: number): void;
  /** `abandoned`: cut short by close() rather than failed (a journal keeps it for a restart). */
  deadLettered(letter: DeadLetter, task: Delivery, abandoned: boolean): void;
  /**
   * Whether spaces other than `space` are configured: asked only when `space` is past half the
   * room and `spaceQueueSize` was not given (a gateway of one space may use the whole queue).
   * @default () => false
   */
  otherSpaces?(space: string): boolean;
}

/** Options of the {@link Dispatcher}. */
export interface DispatcherOptions {
  /** Deliveries waiting (queued or between retries) beyond those running. */
  readonly queueSize: number;
  /** Deliveries running at once. */
  readonly concurrency: number;
  /** Deliveries running at once to any one function. */
  readonly functionConcurrency: number;
  /**
   * Deliveries one space may have pending (queued, running, between retries, being recorded);
   * undefined: half the room (`queueSize + concurrency`) while other spaces are configured.
   */
  readonly spaceQueueSize?: number;
  /**
   * Deliveries of one space running at once; undefined: half of `concurrency` while other spaces
   * are configured.
   */
  readonly spaceConcurrency?: number;
}

/**
 * The most a function may run at once while other functions have deliveries waiting: half the
 * slots. Alone, a function may use every slot (up to `functionConcurrency`); under contention,
 * it takes no new slot past this share, so a slow function never holds up the others.
 */
function contendedShare(concurrency: number): number {
  return Math.max(1, Math.floor(concurrency / 2));
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
  /** Weak: a lane lives as long as its function record (replaced on every update) is in use. */
  private readonly lanes = new WeakMap<FunctionRecord, Lane>();
  /** Lanes with queued deliveries, served round-robin from `cursor`. */
  private readonly ring: Lane[] = [];
  private cursor = 0;
  private queuedCount = 0;
  private active = 0;
  /** Deliveries with an attempt running; each knows its `slot` (cheaper than a Set's hashing). */
  private readonly running: Delivery[] = [];
  private readonly waiting = new Set<Delivery>();
  private closingFlag = false;
  /** Checks running attempts' deadlines while any is in flight (one timer, not one per attempt). */
  private watchdog: NodeJS.Timeout | undefined;
  /** Past the drain timeout: nothing is retried any more. */
  private aborting = false;
  /** Dead letters of deliveries that close() cut short. */
  private readonly abandoned: DeadLetter[] = [];
  private idle: (() => void) | undefined;
  /** Provider calls on the stack: a delivery never starts inside another's handler. */
  private depth = 0;
  /** True while `pump` runs: a nested call leaves the work to that loop. */
  private pumping = false;
  /** Deliveries started in this turn of the event loop, and when the turn's first one started. */
  private turnStarts = 0;
  private turnBegan = 0;
  /** Set once the turn used its budget: nothing more starts until the next turn. */
  private yielding = false;

  private readonly share: number;
  /** Pending deliveries by space (those admitted or reserved, until they finish). */
  private readonly bySpace = new Map<string, number>();
  /** Slots held by space: each lane keeps its space's, so a start costs no lookup. */
  private readonly slotsBySpace = new Map<string, SpaceSlots>();
  /** The most slots one space may hold when the option was left out (and others are configured). */
  private readonly spaceShare: number;
  private readonly clock = new StretchClock();
  /** Hears every attempt's outcome (one object, not a closure per attempt). */
  private readonly listener: AttemptListener<Delivery> = {
    attemptDone: (delivery, attempt, failed, value) =>
      this.settle(delivery, attempt, failed, value),
  };

  constructor(
    private readonly options: DispatcherOptions,
    private readonly hooks: DispatcherHooks,
  ) {
    this.share = contendedShare(options.concurrency);
    this.spaceShare = options.spaceConcurrency ?? contendedShare(options.concurrency);
  }

  /** The watchdog's period, in ms: a tenth of the shortest timeout in flight, 1 to 100 ms. */
  private tick = 0;

  /** Deliveries accepted and not yet finished (queued, running, or between retries). */
  get pending(): number {
    return this.queuedCount + this.running.length + this.waiting.size + this.reserved;
  }

  /** True once `close` began: it accepts nothing more. */
  get closing(): boolean {
    return this.closingFlag;
  }

  /** Room held for deliveries being journaled. */
  private reserved = 0;

  /** Deliveries waiting in the queue. */
  get queued(): number {
    return this.queuedCount;
  }

  /**
   * Accepts every delivery (of one event: one space), or none: throws BackpressureError when they
   * do not all fit.
   */
  accept(deliveries: readonly Delivery[]): void {
    this.reserve(deliveries.length, deliveries[0]?.space ?? '');
    this.acceptReserved(deliveries);
  }

  /**
   * Holds room for `count` deliveries of `space` (while they are being journaled), or throws
   * BackpressureError when they do not fit in the queue or in the space's share of it. Give it
   * back with `acceptReserved` or `unreserve`.
   */
  reserve(count: number, space: string): void {
    if (this.closingFlag)
      throw new GatewayClosedError('The gateway is closing; it accepts no more events.');
    if (count === 0) return;
    const total = this.options.queueSize + this.options.concurrency;
    const room = total - this.pending;
    if (count > room) {
      throw new BackpressureError(
        `The delivery queue is full: ${count} deliveries needed, room for ${Math.max(0, room)} (${this.pending} pending). Nothing was accepted; retry later.`,
      );
    }
    const held = this.bySpace.get(space) ?? 0;
    const given = this.options.spaceQueueSize;
    const share = given ?? Math.max(1, Math.floor(total / 2));
    // One tenant's burst, or its functions that never answer, must not fill the queue that every
    // space's events share: past its share a space is refused, the others still are taken.
    if (held + count > share && (given !== undefined || this.hooks.otherSpaces?.(space) === true)) {
      throw new BackpressureError(
        `The delivery queue is full for space "${space}": ${count} deliveries needed, ${held} of its ${share} pending already (the most one space may hold). Nothing was accepted; retry later.`,
        { space },
      );
    }
    this.bySpace.set(space, held + count);
    this.reserved += count;
  }

  /** Gives back room reserved for deliveries of `space` that were not accepted after all. */
  unreserve(count: number, space: string): void {
    this.reserved -= count;
    this.release(space, count);
  }

  /** Counts deliveries of `space` that finished (or were never accepted) out of its share. */
  private release(space: string, count: number): void {
    const held = (this.bySpace.get(space) ?? 0) - count;
    if (held > 0) this.bySpace.set(space, held);
    else this.bySpace.delete(space);
  }

  /** Accepts deliveries whose room was reserved. */
  acceptReserved(deliveries: readonly Delivery[]): void {
    this.reserved -= deliveries.length;
    this.admit(deliveries);
  }

  /**
   * Takes back deliveries accepted before a restart (from a journal), whatever the room: they
   * were accepted already. Their attempts and age go on from where they were.
   */
  restore(deliveries: readonly Delivery[]): void {
    for (const delivery of deliveries) {
      delivery.restored = true;
      this.bySpace.set(delivery.space, (this.bySpace.get(delivery.space) ?? 0) + 1);
    }
    this.admit(deliveries);
  }

  private admit(deliveries: readonly Delivery[]): void {
    const now = this.clock.now();
    for (let i = 0; i < deliveries.length; i++) {
      const delivery = deliveries[i];
      const lane = this.lane(delivery);
      delivery.lane = lane;
      // A restored delivery keeps its age.
      if (delivery.firstAt === 0) delivery.firstAt = now;
      // Fast path: a free slot and nobody queued ahead in this lane: start now.
      if (
        this.active < this.options.concurrency &&
        !lane.ready &&
        this.hasRoom(lane, this.ring.length > 0) &&
        this.mayStart()
      ) {
        this.run(delivery);
      } else {
        this.enqueue(delivery);
      }
    }
    this.pump();
  }

  /**
   * Stops intake, waits up to `drainTimeout` ms for what is pending, then aborts the rest and
   * dead-letters it. Resolves with every delivery it could not finish.
   */
  async close(drainTimeout: number): Promise<DeadLetter[]> {
    this.closingFlag = true;
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
    if (this.running.length > 0) {
      // Running deliveries are aborted; each dead-letters itself as it settles.
      const settled = new Promise<void>((resolve) => (this.idle = resolve));
      for (const delivery of this.running.slice()) {
        const attempt = delivery.current as Attempt;
        attempt.abort(new Error(reason));
        // Settled now, not when the function gives up: close() must not wait on a stuck handler.
        this.settle(delivery, attempt, true, attempt.abortReason);
      }
      await settled;
    }
    return this.abandoned.splice(0);
  }

  private abandon(delivery: Delivery, reason: string): void {
    const error = new InvocationError(`Not delivered: ${reason}.`, { retryable: false });
    this.deadLetter(delivery, error, reason);
  }

  /** The lane of the delivery's function record, made on its first delivery. */
  private lane(delivery: Delivery): Lane {
    const key = delivery.fn;
    let lane = this.lanes.get(key);
    if (!lane) {
      const provider = this.hooks.provider(delivery);
      const space = delivery.space;
      let slots = this.slotsBySpace.get(space);
      if (!slots) this.slotsBySpace.set(space, (slots = { active: 0 }));
      lane = { key, queue: [], head: 0, active: 0, ready: false, provider, slots };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private enqueue(delivery: Delivery): void {
    const lane = delivery.lane as Lane;
    lane.queue.push(delivery);
    this.queuedCount++;
    if (!lane.ready) {
      lane.ready = true;
      this.ring.push(lane);
    }
  }

  /**
   * Starts deliveries while slots are free, taking lanes in turn and skipping full ones. Not
   * re-entrant: called from inside a delivery (a handler that emits, a synchronous outcome) it
   * returns, and the loop or fast path already on the stack goes on.
   */
  private pump(): void {
    if (this.pumping || this.depth > 0) return;
    this.pumping = true;
    try {
      this.startQueued();
    } finally {
      this.pumping = false;
    }
  }

  /** Whether a lane may take one more slot; `contended`: other functions have deliveries waiting. */
  private hasRoom(lane: Lane, contended: boolean): boolean {
    return (
      lane.active < this.options.functionConcurrency &&
      (!contended || lane.active < this.share) &&
      this.spaceHasRoom(lane.slots, lane.key.space)
    );
  }

  /**
   * Whether a space may take one more slot: a tenant's functions that hang would otherwise hold
   * every slot until their attempts time out, and other spaces' deliveries wait that long. Past
   * its share, asked only then: the rest of the time a start costs one comparison.
   */
  private spaceHasRoom(slots: SpaceSlots, space: string): boolean {
    if (slots.active < this.spaceShare) return true;
    return this.options.spaceConcurrency === undefined && this.hooks.otherSpaces?.(space) !== true;
  }

  private startQueued(): void {
    let skipped = 0;
    // Set once every waiting function is past its share: the spare slots then go to them too.
    let relaxed = false;
    while (this.active < this.options.concurrency && this.ring.length > 0) {
      if (skipped >= this.ring.length) {
        if (relaxed) return;
        relaxed = true;
        skipped = 0;
      }
      if (this.cursor >= this.ring.length) this.cursor = 0;
      const lane = this.ring[this.cursor];
      if (!this.hasRoom(lane, !relaxed && this.ring.length > 1)) {
        this.cursor++;
        skipped++;
        continue;
      }
      if (!this.mayStart()) return;
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
      this.run(delivery);
    }
  }

  /**
   * Whether a delivery may start now: not inside another delivery's provider call, and not past
   * this turn's budget. Past it, the next turn of the event loop (a setImmediate) starts the rest,
   * so that timers and I/O run in between however long a burst or a loop of events lasts.
   */
  private mayStart(): boolean {
    if (this.depth > 0 || this.yielding) return false;
    if (this.turnStarts++ === 0) {
      this.turnBegan = performance.now();
      setImmediate(() => this.nextTurn());
    } else if (
      this.turnStarts % CLOCK_EVERY === 0 &&
      performance.now() - this.turnBegan > TURN_BUDGET_MS
    ) {
      this.yielding = true;
      return false;
    }
    return true;
  }

  private nextTurn(): void {
    this.turnStarts = 0;
    const resume = this.yielding;
    this.yielding = false;
    if (resume) this.pump();
  }

  private run(delivery: Delivery): void {
    const task = delivery;
    const attemptNumber = ++delivery.attempts;
    const lane = delivery.lane as Lane;
    this.active++;
    lane.active++;
    lane.slots.active++;
    delivery.slot = this.running.push(delivery) - 1;
    // A first attempt starts when it was accepted (no second clock read), unless restored.
    const startedAt =
      attemptNumber === 1 && !delivery.restored ? delivery.firstAt : performance.now();
    const attempt = new Attempt(
      task.space,
      task.fn,
      task.timeout,
      attemptNumber,
      this.hooks.localHandler(task),
      startedAt,
    );
    delivery.current = attempt;
    // Traced: the attempt's span, and the event with its trace context (a copy).
    let event = task.event;
    if (delivery.trace !== undefined) {
      event = (attempt.trace = delivery.trace.attempt(delivery, attemptNumber)).event;
    }
    this.depth++;
    let pending: boolean;
    try {
      this.hooks.invoking(task, attemptNumber);
      pending = startAttempt(lane.provider, task.fn, event, attempt, this.listener, delivery);
    } finally {
      this.depth--;
    }
    if (pending && !attempt.settled) this.watch(task.timeout);
  }

  /**
   * Starts the watchdog if needed. A timer per attempt costs more than a whole local delivery;
   * the running set is bounded by `concurrency`, so scanning it every tick is cheap. A timeout
   * fires within one tick (at most 1/10 of the shortest timeout, 1 to 100 ms) after its deadline.
   * Ref'd on purpose: a delivery in flight is work the process must finish or report.
   */
  private watch(timeout: number): void {
    const tick = Math.min(100, Math.max(1, Math.floor(timeout / 10)));
    if (this.watchdog && tick >= this.tick) return;
    clearInterval(this.watchdog);
    this.tick = tick;
    this.watchdog = setInterval(() => {
      const now = performance.now();
      // Backwards: settling moves the last delivery into the freed slot, one already seen.
      for (let i = this.running.length - 1; i >= 0; i--) {
        const delivery = this.running[i];
        const attempt = delivery.current;
        if (attempt && attempt.deadline <= now) {
          attempt.abort(new TimeoutSignal(`timed out after ${delivery.timeout} ms`));
          this.settle(delivery, attempt, true, attempt.abortReason);
        }
      }
      if (this.running.length === 0) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
        this.tick = 0;
      }
    }, this.tick);
  }

  /**
   * Records an attempt's outcome once: the first of result, failure, timeout or abort wins.
   * `failed` says whether `value` is a result or what was thrown (which may be `undefined`).
   */
  private settle(delivery: Delivery, attempt: Attempt, failed: boolean, value: unknown): void {
    if (attempt.settled) return;
    attempt.settled = true;
    delivery.current = undefined;
    const last = this.running.pop() as Delivery;
    if (last !== delivery) {
      last.slot = delivery.slot;
      this.running[last.slot] = last;
    }
    this.active--;
    (delivery.lane as Lane).active--;
    (delivery.lane as Lane).slots.active--;
    const task = delivery;
    const now = this.clock.now();
    const elapsed = now - attempt.startedAt;
    if (!failed) {
      const result = value;
      this.release(delivery.space, 1);
      attempt.trace?.end('delivered');
      this.hooks.succeeded(task, result, attempt.attempt, elapsed);
      task.onSettled?.({
        ok: true,
        subscriptionId: task.subscription.subscriptionId,
        functionId: task.fn.functionId,
        result,
        attempts: attempt.attempt,
        durationMs: now - delivery.firstAt,
      });
    } else {
      this.failed(delivery, this.classify(task, value, attempt), attempt);
    }
    this.pump();
    // Only close() waits for idle: the sum of what is pending is not worked out on every settle.
    if (this.idle !== undefined && this.pending === 0) this.idle();
  }

  private failed(delivery: Delivery, error: InvocationError, attempt: Attempt): void {
    const { attempts } = delivery;
    const task = delivery;
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
      if (performance.now() + delay - delivery.firstAt > policy.maxAge) {
        reason = `retrying in ${delay} ms would pass maxAge (${policy.maxAge} ms); the last failure: ${error.message}`;
      }
    }
    if (reason !== undefined) {
      attempt.trace?.end(this.aborting ? 'abandoned' : 'dead-lettered', error, error.statusCode);
      this.hooks.attemptFailed(task, error, attempts);
      this.deadLetter(delivery, error, reason);
      return;
    }
    attempt.trace?.end('retrying', error, error.statusCode);
    this.hooks.attemptFailed(task, error, attempts, delay);
    this.waiting.add(delivery);
    delivery.retryTimer = setTimeout(() => {
      this.waiting.delete(delivery);
      // Retry with the configuration as it is now: a URL fixed meanwhile is the one to use.
      const fn = this.hooks.currentFunction(delivery);
      if (!fn) {
        const reason = `function "${delivery.fn.functionId}" was deleted before the retry`;
        this.deadLetter(
          delivery,
          new InvocationError(`Not delivered: ${reason}.`, { retryable: false }),
          reason,
        );
        return;
      }
      delivery.fn = fn;
      delivery.lane = this.lane(delivery);
      this.enqueue(delivery);
      this.pump();
    }, delay);
  }

  /** Dead-letters a delivery that could not even be queued (accepted, with no attempt). */
  refuse(task: Delivery, reason: string): void {
    const error = new InvocationError(`Not delivered: ${reason}.`, {
      retryable: false,
      resource: 'function',
      id: task.fn.functionId,
      space: task.space,
    });
    task.firstAt = performance.now();
    this.deadLetter(task, error, reason);
  }

  private deadLetter(delivery: Delivery, error: InvocationError, reason: string): void {
    // Admitted ones only (they have a lane): `refuse` dead-letters deliveries never counted.
    if (delivery.lane !== undefined) this.release(delivery.space, 1);
    const { attempts } = delivery;
    const task = delivery;
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
    this.hooks.deadLettered(letter, task, this.aborting);
    task.onSettled?.({
      ok: false,
      subscriptionId: letter.subscriptionId,
      functionId: letter.functionId,
      error,
      attempts,
      durationMs: performance.now() - delivery.firstAt,
    });
  }

  /** Turns whatever an attempt threw into an InvocationError that says whether to retry. */
  private classify(task: DeliveryTask, error: unknown, attempt: Attempt): InvocationError {
    const ids = { resource: 'function' as const, id: task.fn.functionId, space: task.space };
    const name = task.fn.functionId;
    if (attempt.abortReason instanceof TimeoutSignal) {
      return timedOut(task.fn, task.space, task.timeout, error);
    }
    if (attempt.abortReason) {
      return new InvocationError(
        `Function "${name}" was aborted: ${attempt.abortReason.message}.`,
        {
          retryable: false,
          cause: error,
          ...ids,
        },
      );
    }
    return invocationFailure(task.fn, task.space, error);
  }
}
