import { MAX_TIMER_MS } from '../model/checks';
import { cronParser, shortestScheduleGap } from './schedule-gap';
import type { Source, SourceContext, SourceLag } from './source';

/** The lease state of a schedule: the last tick claimed, and whether its event was accepted. */
interface TickState {
  readonly tick: number;
  readonly done: boolean;
}

/** The one lease unit of a schedule. */
const UNIT = 'tick';

/**
 * A schedule: an event per tick of its cron expression (`source.cron`, 5 fields or 6 with
 * seconds, in `source.timezone`, UTC by default), fired once per tick across the fleet. Every
 * instance keeps the timer; at a tick each tries to claim it in the store (a compare-and-swap on
 * the schedule's lease key), and only the winner delivers the event, renewing its claim while
 * the event is in flight however long its acceptance takes. Its acknowledgement marks the tick
 * done. If the winner dies first, another instance claims the same tick once the claim
 * expires (the runner's `leaseTtl`), unless a later tick has fired by then: a schedule catches up
 * on a lost tick, never on a series of them.
 * @example
 * ```ts
 * await gateway.createConnection({
 *   connectionId: 'nightly', type: 'schedule', source: { cron: '0 3 * * *' }, eventType: 'nightly',
 * });
 * ```
 */
export function scheduleSource(context: SourceContext): Source {
  return new ScheduleSource(context);
}

class ScheduleSource implements Source {
  private readonly parser = cronParser();
  private readonly cron: string;
  private readonly tz: string | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Renewals of the claims of ticks in flight. */
  private readonly renewals = new Set<NodeJS.Timeout>();
  private paused = false;
  private closed = false;
  /** How late the last tick fired here was delivered, in ms. */
  private late: number | undefined;

  constructor(private readonly context: SourceContext) {
    const { source } = context.record;
    this.cron = String(source.cron);
    this.tz = source.timezone === undefined ? undefined : String(source.timezone);
    // A bad expression or zone fails the start (reported, and retried with the run's backoff).
    this.nextTick(Date.now());
    const min = context.minScheduleInterval;
    if (min !== undefined && shortestScheduleGap(this.cron, this.tz) < min) {
      context.fail(
        new Error(
          `its schedule ticks more often than the gateway's "limits.minScheduleInterval" (${min / 1000} s): only the first tick of every ${min / 1000} s fires.`,
        ),
      );
    }
  }

  async start(): Promise<void> {
    this.schedule(Date.now());
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** How late the last tick this instance fired was delivered; unknown before its first. */
  lag(): SourceLag {
    return this.late === undefined ? {} : { lagMs: this.late };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const timer of this.renewals) clearInterval(timer);
    this.renewals.clear();
  }

  private nextTick(after: number): number {
    return this.parser
      .parse(this.cron, { currentDate: new Date(after), ...(this.tz ? { tz: this.tz } : {}) })
      .next()
      .getTime();
  }

  private later(at: number, run: () => void): void {
    // Node fires a timer past its range (~24.8 days) at once: a yearly tick would fire now, and
    // the next from it, in a loop. Such a wait is made in steps.
    const wait = Math.max(0, at - Date.now());
    const step = wait > MAX_TIMER_MS;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (this.closed) return;
        if (step) this.later(at, run);
        else run();
      },
      step ? MAX_TIMER_MS : wait,
    );
    timer.unref();
    this.timers.add(timer);
  }

  /**
   * The first tick after `after` that is the first of its interval of `minScheduleInterval`
   * (counted from the epoch, so every instance of a fleet picks the same ticks).
   */
  private allowedTick(after: number): number {
    const min = this.context.minScheduleInterval;
    let tick = this.nextTick(after);
    if (min === undefined) return tick;
    for (;;) {
      const start = tick - (tick % min);
      if (this.nextTick(start - 1) === tick) return tick;
      tick = this.nextTick(start + min - 1);
    }
  }

  /** Sets the timer of the first tick after `after` (that the limits let fire). */
  private schedule(after: number): void {
    const tick = this.allowedTick(after);
    this.later(tick, () => {
      // The next tick's timer first: a slow claim never delays it. A timer that fired a moment
      // early still counts from its own tick.
      this.schedule(Math.max(Date.now(), tick));
      if (!this.paused) void this.fire(tick);
    });
  }

  /** Claims the tick and delivers its event; a tick another instance claimed is checked again. */
  private async fire(tick: number): Promise<void> {
    const leases = this.context.leases;
    let claimed: boolean;
    /** Whether the tick is claimed by another instance and not done yet: worth a look later. */
    let unfinished = false;
    try {
      claimed = await leases.claim<TickState>(UNIT, (current, expired) => {
        const last = current?.state;
        // A lost race (another instance's write between our read and ours) is worth a look too.
        if (!last || typeof last.tick !== 'number' || last.tick < tick) {
          unfinished = true;
          return { tick, done: false };
        }
        unfinished = last.tick === tick && !last.done;
        // This tick: only when claimed and left unfinished by an instance that stopped renewing.
        return unfinished && expired ? { tick, done: false } : undefined;
      });
    } catch (error) {
      this.context.fail(error as Error);
      [claimed, unfinished] = [false, true];
    }
    if (!claimed) {
      if (!unfinished) return;
      // If the winner dies before its event is accepted, the claim expires: take the tick over.
      this.later(Date.now() + leases.ttl + 50, () => void this.fire(tick));
      return;
    }
    this.context.owned([UNIT]);
    const settled = this.renew(tick);
    const time = new Date(tick);
    // From the tick to its event handed over: a busy loop, a slow claim, a takeover.
    this.late = Math.max(0, Date.now() - tick);
    this.context.deliver({
      id: `tick-${time.toISOString()}`,
      body: JSON.stringify({ scheduledTime: time.toISOString() }),
      contentType: 'application/json',
      time,
      ack: async () => {
        await settled();
        await leases.claim<TickState>(UNIT, (current) =>
          current?.owner === leases.owner && current.state?.tick === tick
            ? { tick, done: true }
            : undefined,
        );
      },
      // Not accepted here (closing): let another instance take the tick at once.
      release: async () => {
        await settled();
        await leases.release(UNIT);
      },
    });
  }

  /**
   * Renews the claim of `tick` every third of the lease time while its event is in flight: an
   * acceptance slower than the lease (a store or journal slow to answer, retries) must not let
   * another instance take the tick over and fire it a second time. Stops once the claim is no
   * longer this instance's. Returns the function that stops it.
   */
  private renew(tick: number): () => Promise<void> {
    const leases = this.context.leases;
    let renewing: Promise<unknown> | undefined;
    const timer = setInterval(
      () => {
        renewing ??= leases
          .claim<TickState>(UNIT, (current) =>
            current?.owner === leases.owner && current.state?.tick === tick && !current.state.done
              ? { tick, done: false }
              : undefined,
          )
          .then(
            (kept) => kept || void stop(),
            (error: unknown) => this.context.fail(error as Error),
          )
          .finally(() => (renewing = undefined));
      },
      Math.max(50, Math.floor(leases.ttl / 3)),
    );
    timer.unref();
    this.renewals.add(timer);
    // Waits for a renewal under way: its compare-and-swap would make the ack's fail.
    const stop = async () => {
      clearInterval(timer);
      this.renewals.delete(timer);
      await renewing;
    };
    return stop;
  }
}
