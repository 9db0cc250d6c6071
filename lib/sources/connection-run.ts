import type { ConnectionFigures } from '../metrics/connection-metrics';
import {
  EventRefusedError,
  FilterBudgetError,
  GatewayClosedError,
  GatewayError,
  HopLimitError,
  OutboundRefusedError,
  ValidationError,
} from '../errors';
import type { CloudEvent } from '../model/cloud-event';
import { systemCloudEvent, type ConnectionRefusedNotice } from '../model/system-events';
import { DEFAULT_MAX_IN_FLIGHT, type ConnectionRecord } from '../model/connection';
import { describeError } from '../model/describe-error';
import { exponentialDelay, type ExponentialDelayOptions } from '../model/exponential-delay';
import { SYSTEM_EVENT_TYPES } from '../model/system-events';
import { bodyText, messageBody, messageEvent } from './message-event';
import type { OutboundCheck } from '../model/outbound-policy';
import type { Source, SourceFactory, SourceLag, SourceMessage } from './source';
import { outboundRefusalIn } from './source-outbound';
import type { StoreLeases } from './store-leases';

/**
 * Where a connection's events enter the gateway: resolves once the event is accepted (recorded,
 * with a journal), rejects when it is refused or cannot be accepted now. The gateway's `emit`
 * (with `via: 'source'`) is one.
 */
export type SourceEntry = (
  event: Record<string, unknown>,
  context: { readonly space: string },
) => Promise<unknown>;

/** What a run needs besides its connection. */
export interface RunDependencies {
  readonly entry: SourceEntry;
  readonly factory: SourceFactory;
  readonly leases: StoreLeases;
  /** The outbound policy the connection's writer is held to, checked on every connect. */
  readonly outbound?: OutboundCheck;
  /** Raises the `connection.refused` system event. */
  readonly refused: (notice: ConnectionRefusedNotice) => void;
  /** Sends a refused message's event to the connection's dead-letter function. */
  readonly deadLetter?: (space: string, functionId: string, event: CloudEvent) => Promise<unknown>;
  readonly reportError: (error: Error) => void;
  readonly maxMessageBytes: number;
  /** Delays between attempts to enter an event the gateway could not accept yet, or to start. */
  readonly retry: ExponentialDelayOptions;
  /** How long `close()` waits for events in flight to be accepted before it stops the source. */
  readonly drainTimeout: number;
  /** See {@link SourceContext.minScheduleInterval}. */
  readonly minScheduleInterval?: number;
}

/** What `health()` reports per connection: its figures (what metrics read), and its source type. */
export interface ConnectionHealth extends ConnectionFigures {
  readonly type: string;
  /** `starting` until the source runs (and while it is retried), `paused` under backpressure. */
  readonly state: 'starting' | 'running' | 'paused' | 'closed';
  /**
   * The code of the last error when it is a typed one: `OUTBOUND_REFUSED` when the outbound
   * policy refused the source's host at connect time (see {@link OutboundRefusedError}).
   */
  readonly lastErrorCode?: string;
}

/** Errors that say "this event is refused, whenever it is sent": dead-lettered, not retried. */
const REFUSALS = [ValidationError, EventRefusedError, HopLimitError, FilterBudgetError];

/**
 * A paused source resumes once its messages in flight fall to this share of `maxInFlight`: a
 * source resumed at the first ack below the mark pauses again at the next message, so each
 * message paid a pause, a wake and (Kafka) a heartbeat and a timer; resumed at half, a batch
 * delivers half a window at a time. The bound is still `maxInFlight`.
 */
const RESUME_SHARE = 0.5;

/** The dead-letter notice keeps at most this much of the message. */
const NOTICE_BODY = 64 * 1024;

/**
 * One connection running on this instance: its source delivers messages, each becomes an event
 * entered through the gateway, and is acknowledged only after acceptance, or after dead-lettering
 * when refused. At most `maxInFlight` messages are in flight: at that mark the source is paused,
 * so that nothing is buffered without bound; it resumes once half of them are settled.
 */
export class ConnectionRun {
  private source: Source | undefined;
  private inFlight = 0;
  private paused = false;
  private closed = false;
  private startAttempts = 0;
  private startTimer: NodeJS.Timeout | undefined;
  /** Resolves close()'s wait once nothing is in flight. */
  private drained: (() => void) | undefined;
  /** Messages in flight; those `close()` gave back are removed, so that they are never acked. */
  private readonly unsettled = new Set<SourceMessage>();
  /** Wakes the retry waits when the run closes. */
  private readonly wakers = new Set<() => void>();
  private readonly maxInFlight: number;
  /** At or below this many in flight, a paused source resumes (see {@link RESUME_SHARE}). */
  private readonly resumeAt: number;
  private counts = { accepted: 0, refused: 0, retries: 0, ackFailures: 0 };
  private ownedUnits: readonly string[] = [];
  private lastError: string | undefined;
  private lastErrorCode: string | undefined;

  constructor(
    /** The connection with its secrets. */
    readonly record: ConnectionRecord,
    private readonly deps: RunDependencies,
  ) {
    this.maxInFlight = record.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.resumeAt = Math.floor((this.maxInFlight - 1) * RESUME_SHARE);
  }

  /** Starts the source; a source that fails to start is tried again with backoff until closed. */
  start(): void {
    void this.startSource();
  }

  health(): ConnectionHealth {
    const { space, connectionId, type } = this.record;
    const state = this.closed
      ? 'closed'
      : !this.source
        ? 'starting'
        : this.paused
          ? 'paused'
          : 'running';
    return {
      space,
      connectionId,
      type,
      state,
      inFlight: this.inFlight,
      ...this.counts,
      owned: this.ownedUnits,
      ...lagOf(this.source),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(this.lastErrorCode === undefined ? {} : { lastErrorCode: this.lastErrorCode }),
    };
  }

  /**
   * Stops pulling, waits (up to `drainTimeout`) for the events in flight to be accepted and their
   * messages acknowledged, gives back the rest, and closes the source.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.startTimer);
    this.flowControl('pause');
    for (const wake of this.wakers) wake();
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        timer = setTimeout(resolve, this.deps.drainTimeout).unref();
      });
      clearTimeout(timer);
    }
    // Not accepted within the drain: given back for redelivery (an acceptance that still comes
    // makes a duplicate, which at-least-once allows; an ack after this point could lose it).
    const left = [...this.unsettled];
    this.unsettled.clear();
    await Promise.all(left.map(giveBack));
    if (this.source) await closeSource(this.source).catch((error: unknown) => this.fail(error));
  }

  private async startSource(): Promise<void> {
    if (this.closed) return;
    let source: Source | undefined;
    try {
      source = await this.deps.factory({
        record: this.record,
        deliver: (message) => this.deliver(message),
        leases: this.deps.leases,
        fail: (error) => this.fail(error),
        owned: (units) => void (this.ownedUnits = [...units]),
        minScheduleInterval: this.deps.minScheduleInterval,
        ...(this.deps.outbound ? { outbound: this.deps.outbound } : {}),
      });
      if (this.closed) return void (await closeSource(source));
      this.source = source;
      await source.start();
      this.startAttempts = 0;
    } catch (error) {
      this.source = undefined;
      this.fail(error);
      // The start's failure is the one reported; the retry goes on whatever close() does.
      if (source) await closeSource(source).catch(() => undefined);
      if (this.closed) return;
      const delay = exponentialDelay(this.startAttempts++, this.deps.retry);
      this.startTimer = setTimeout(() => void this.startSource(), delay).unref();
    }
  }

  private fail(error: unknown): void {
    const { space, connectionId } = this.record;
    const refusal = outboundRefusalIn(error);
    if (refusal) {
      // Typed: the host resolved somewhere the writer's policy forbids; nothing was sent.
      const refused = new OutboundRefusedError(
        `Connection ${connectionId} (space ${space}): ${refusal.message}`,
        { resource: 'connection', id: connectionId, space, cause: error },
      );
      this.lastError = refused.message;
      this.lastErrorCode = refused.code;
      this.deps.reportError(refused);
      return;
    }
    this.lastError = describeError(error);
    this.lastErrorCode = error instanceof GatewayError ? error.code : undefined;
    this.deps.reportError(
      new Error(`Connection ${connectionId} (space ${space}): ${this.lastError}`, { cause: error }),
    );
  }

  private deliver(message: SourceMessage): void {
    if (this.closed) {
      void giveBack(message);
      return;
    }
    this.inFlight++;
    this.unsettled.add(message);
    if (this.inFlight >= this.maxInFlight && !this.paused) {
      this.paused = true;
      this.flowControl('pause');
    }
    // settle() never rejects, and counts the message out itself: no promise is kept per message.
    void this.settle(message);
  }

  /** The message is settled (acknowledged, refused or given back): one fewer in flight. */
  private settled(message: SourceMessage): void {
    this.unsettled.delete(message);
    this.inFlight--;
    if (this.closed) {
      if (this.inFlight === 0) this.drained?.();
    } else if (this.paused && this.inFlight <= this.resumeAt) {
      this.paused = false;
      this.flowControl('resume');
    }
  }

  /**
   * Enters the message's event until accepted or refused, then acknowledges it; then counts it
   * out. Never rejects.
   */
  private async settle(message: SourceMessage): Promise<void> {
    try {
      const { space } = this.record;
      let event: Record<string, unknown> | undefined;
      try {
        event = messageEvent(this.record, message, this.deps.maxMessageBytes);
      } catch (error) {
        await this.refuse(message, error as GatewayError);
      }
      for (let attempt = 0; event !== undefined; attempt++) {
        try {
          await this.deps.entry(event, { space });
          this.counts.accepted++;
          break;
        } catch (error) {
          if (REFUSALS.some((kind) => error instanceof kind)) {
            await this.refuse(message, error as GatewayError);
            break;
          }
          if (this.closed || error instanceof GatewayClosedError) {
            // Not accepted: the source delivers it again (here after a restart, or elsewhere).
            if (this.unsettled.delete(message)) await giveBack(message);
            return;
          }
          this.counts.retries++;
          this.lastError = describeError(error);
          this.lastErrorCode = error instanceof GatewayError ? error.code : undefined;
          await this.wait(exponentialDelay(attempt, this.deps.retry));
        }
      }
      // Given back by close() meanwhile: the source redelivers it, so no ack.
      if (!this.unsettled.delete(message)) return;
      try {
        await message.ack();
      } catch (error) {
        this.counts.ackFailures++;
        this.fail(error);
      }
    } finally {
      this.settled(message);
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  /**
   * Pauses or resumes the source: what a custom source's throws is reported (its last error),
   * never thrown into its own `deliver()` call nor left an unhandled rejection by `settle()`.
   */
  private flowControl(step: 'pause' | 'resume'): void {
    try {
      this.source?.[step]();
    } catch (error) {
      this.fail(error);
    }
  }

  /** Counts, reports and dead-letters a refused message (never throws). */
  private async refuse(message: SourceMessage, error: GatewayError): Promise<void> {
    this.counts.refused++;
    const { space, connectionId, type, deadLetter } = this.record;
    // What a custom source gave may be neither text nor bytes (refused for that): an empty body.
    const body = messageBody(message.body) ?? '';
    const text = bodyText(body);
    const whole = text ?? (body as Buffer).toString('base64');
    const notice: ConnectionRefusedNotice = {
      space,
      connectionId,
      sourceType: type,
      messageId: message.id,
      reason: error.message,
      code: typeof error.code === 'string' ? error.code : 'ERROR',
      size: typeof body === 'string' ? Buffer.byteLength(body) : body.length,
      body: whole.slice(0, NOTICE_BODY),
      encoding: text === undefined ? 'base64' : 'utf8',
      truncated: whole.length > NOTICE_BODY,
    };
    try {
      this.deps.refused(notice);
    } catch (failure) {
      this.fail(failure);
    }
    const functionId = deadLetter?.functionId;
    if (functionId === undefined || !this.deps.deadLetter) return;
    try {
      const refusal = systemCloudEvent(SYSTEM_EVENT_TYPES.connectionRefused, notice);
      await this.deps.deadLetter(space, functionId, refusal);
    } catch (failure) {
      this.fail(
        new Error(`the dead-letter function ${functionId} failed: ${describeError(failure)}`),
      );
    }
  }
}

/** A source's `close()` as a promise, also when a custom source's throws at once. */
async function closeSource(source: Source): Promise<void> {
  await source.close();
}

/**
 * Gives a message back to its source, whatever its `release` does (a custom source's may throw or
 * return no promise): never throws nor rejects. One it failed to take back is redelivered all the
 * same, after the source's own timeout.
 */
async function giveBack(message: SourceMessage): Promise<void> {
  try {
    await message.release?.();
  } catch {
    // redelivered after the source's own timeout
  }
}

/**
 * The source's lag as `health()` and Prometheus show it: its finite, non-negative figures only,
 * none when `lag()` throws (a custom source's may): the rest of the health report stays readable.
 */
function lagOf(source: Source | undefined): SourceLag {
  let lag: unknown;
  try {
    lag = source?.lag?.();
  } catch {
    return {};
  }
  if (typeof lag !== 'object' || lag === null) return {};
  const { lagMessages, lagMs } = lag as Record<string, unknown>;
  const figure = (value: unknown): value is number =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0;
  return {
    ...(figure(lagMessages) ? { lagMessages } : {}),
    ...(figure(lagMs) ? { lagMs } : {}),
  };
}
