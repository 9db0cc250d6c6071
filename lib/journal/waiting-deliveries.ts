import { MAX_TIMER_MS } from '../model/checks';
import type { JournalEntry } from './journal';

/** What a waiting delivery lacks on this instance: its function, or (local) its handler. */
export type Missing = 'function' | 'handler';

/** The deliveries waiting for one function. */
export interface WaitingFunction {
  readonly space: string;
  readonly functionId: string;
  /** How many of its deliveries wait. */
  readonly deliveries: number;
  /** What it lacks here: its configuration, or (a local function) its handler. */
  readonly missing: 'function' | 'handler';
}

/** What is waiting: see {@link WaitingDeliveries.report}. */
export interface WaitingReport {
  readonly deliveries: number;
  /** The functions they wait for, most deliveries first (at most `limit` of them). */
  readonly functions: WaitingFunction[];
}

/** What {@link WaitingDeliveries} needs from the gateway. */
export interface WaitingOptions {
  /** How long a delivery may wait, in ms (`Infinity`: as long as it takes). */
  readonly wait: number;
  /** What the entry's delivery lacks now, or undefined when it can be made. */
  missing(entry: JournalEntry): Missing | undefined;
  /** Makes deliveries that no longer wait. */
  release(entries: readonly JournalEntry[]): void;
  /** Dead-letters a delivery that waited too long, with the reason. */
  expire(entry: JournalEntry, reason: string): void;
}

interface Group {
  readonly space: string;
  readonly functionId: string;
  readonly entries: JournalEntry[];
  /** When each entry began to wait (Date.now()), in the same order. */
  readonly since: number[];
}

/**
 * Deliveries handed back by a journal whose function this instance cannot call yet: not in its
 * configuration (an app that registers its functions after start, on an in-memory store), or a
 * `local` function whose handler is not bound yet (bound after `ready()`). They wait, grouped by
 * function, until `retry` finds the function callable, or until `wait` ms passed (then they are
 * dead-lettered with the reason). They stay in the journal while they wait, so a crash loses
 * none, and they are bounded by what the journal hands over (LocalJournal's `maxEntries`,
 * KafkaJournal's `maxUnfinished`: past it, the rest stays in Kafka).
 */
export class WaitingDeliveries {
  private readonly groups = new Map<string, Group>();
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Functions to look at again on the next turn. */
  private readonly retries = new Set<string>();
  private closed = false;

  constructor(private readonly options: WaitingOptions) {}

  /** Deliveries waiting now. */
  get size(): number {
    return this.count;
  }

  /** Keeps the entry waiting if its function is not callable yet; false when it can be made now. */
  hold(entry: JournalEntry): boolean {
    if (this.options.wait === 0 || this.closed) return false;
    if (this.options.missing(entry) === undefined) return false;
    const key = groupKey(entry.space, entry.functionId);
    let group = this.groups.get(key);
    if (!group) {
      group = { space: entry.space, functionId: entry.functionId, entries: [], since: [] };
      this.groups.set(key, group);
    }
    group.entries.push(entry);
    group.since.push(Date.now());
    this.count++;
    this.schedule();
    return true;
  }

  /**
   * Makes the deliveries waiting for a function if it is callable now: on the next turn of the
   * event loop, so that the caller (a handler being bound, a configuration change being applied)
   * finishes first and no delivery starts inside it.
   */
  retry(space: string, functionId: string): void {
    const key = groupKey(space, functionId);
    if (!this.groups.has(key)) return;
    this.retries.add(key);
    if (this.retries.size === 1) setImmediate(() => this.retryNow());
  }

  private retryNow(): void {
    const keys = [...this.retries];
    this.retries.clear();
    for (const key of keys) {
      const group = this.groups.get(key);
      if (this.closed || !group || this.options.missing(group.entries[0]) !== undefined) continue;
      this.groups.delete(key);
      this.count -= group.entries.length;
      this.options.release(group.entries);
    }
  }

  /** How many wait, and for which functions (the `limit` with the most). */
  report(limit = 100): WaitingReport {
    const functions: WaitingFunction[] = [];
    for (const group of this.groups.values()) {
      const { space, functionId, entries } = group;
      const missing = this.options.missing(entries[0]) ?? 'handler';
      functions.push({ space, functionId, deliveries: entries.length, missing });
    }
    functions.sort((a, b) => b.deliveries - a.deliveries);
    return { deliveries: this.count, functions: functions.slice(0, limit) };
  }

  /** Stops waiting: returns what waited (it stays in the journal, for the next start). */
  close(): JournalEntry[] {
    this.closed = true;
    clearTimeout(this.timer);
    const left = [...this.groups.values()].flatMap((group) => group.entries);
    this.groups.clear();
    this.count = 0;
    return left;
  }

  /** Sets the timer for the first delivery to wait too long. */
  private schedule(): void {
    if (this.timer || !Number.isFinite(this.options.wait) || this.count === 0) return;
    let first = Infinity;
    for (const group of this.groups.values()) first = Math.min(first, group.since[0]);
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, first + this.options.wait - Date.now()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.expire();
    }, delay);
    this.timer.unref();
  }

  /** Dead-letters what waited too long (or makes it, if its function came meanwhile). */
  private expire(): void {
    const cutoff = Date.now() - this.options.wait;
    for (const [key, group] of [...this.groups]) {
      let due = 0;
      while (due < group.since.length && group.since[due] <= cutoff) due++;
      if (due === 0) continue;
      const entries = group.entries.splice(0, due);
      group.since.splice(0, due);
      this.count -= due;
      if (group.entries.length === 0) this.groups.delete(key);
      const missing = this.options.missing(entries[0]);
      if (missing === undefined) {
        this.options.release(entries);
        continue;
      }
      const reason = expiredReason(group.functionId, missing, this.options.wait);
      for (const entry of entries) this.options.expire(entry, reason);
    }
    this.schedule();
  }
}

function groupKey(space: string, functionId: string): string {
  return `${space}\u0000${functionId}`;
}

function expiredReason(functionId: string, missing: Missing, wait: number): string {
  const waited = `the delivery waited ${wait} ms for it (the journal's waitForFunctions)`;
  return missing === 'function'
    ? `function "${functionId}" is not in this instance's configuration: ${waited}`
    : `no handler is bound on this instance for local function "${functionId}": ${waited}`;
}

/**
 * The `waitForFunctions` option of a journal, checked: 0 to MAX_TIMER_MS ms, or `Infinity`.
 * @default Infinity
 */
export function waitForFunctionsOption(value: unknown, where: string): number {
  if (value === undefined) return Infinity;
  if (
    typeof value !== 'number' ||
    !(value === Infinity || (Number.isInteger(value) && value >= 0 && value <= MAX_TIMER_MS))
  ) {
    throw new TypeError(
      `${where}: "waitForFunctions" must be a number of ms from 0 to ${MAX_TIMER_MS}, or Infinity.`,
    );
  }
  return value;
}
