import { ValidationError } from '../errors';
import { MAX_TIMER_MS } from '../model/checks';
import { describeError } from '../model/describe-error';
import { Histogram } from '../metrics/histogram';
import type { IntakeContext, IntakePlugin, IntakeVia, PluginHost } from '../plugins/intake-plugin';

/** Where an event is being emitted: its space, method and path. */
export interface IntakeTarget {
  readonly space: string;
  readonly method: string;
  readonly path: string;
}

/** A failing fail-open plugin is reported at most this often (ms): not once per event. */
const REPORT_INTERVAL = 10_000;

/** One plugin with its counters. */
export class Gate {
  events = 0;
  passed = 0;
  enriched = 0;
  refused = 0;
  failed = 0;
  timedOut = 0;
  failedOpen = 0;
  hookErrors = 0;
  readonly duration = new Histogram();
  readonly timeout: number;
  readonly failOpen: boolean;
  private reportedAt = -Infinity;
  private unreported = 0;

  constructor(
    readonly plugin: IntakePlugin,
    private readonly host: PluginHost,
  ) {
    this.timeout = plugin.timeout ?? 1000;
    this.failOpen = plugin.failOpen === true;
  }

  /** Reports a failure nobody else hears of, at most once per REPORT_INTERVAL. */
  report(what: string, error: unknown): void {
    const now = performance.now();
    if (now - this.reportedAt < REPORT_INTERVAL) {
      this.unreported++;
      return;
    }
    const more = this.unreported > 0 ? ` (and ${this.unreported} more since the last report)` : '';
    this.reportedAt = now;
    this.unreported = 0;
    this.host.reportError(
      new Error(`Intake plugin "${this.plugin.name}" ${what}: ${describeError(error)}${more}`, {
        cause: error,
      }),
    );
  }
}

type OutcomeHook = 'accepted' | 'delivered' | 'deadLettered';

/**
 * Calls one outcome hook with one or two arguments (no rest array: this runs for every event);
 * what it throws is counted and reported, never passed on.
 */
export function notify(gate: Gate, hook: OutcomeHook, first: unknown, second?: unknown): void {
  try {
    (gate.plugin as unknown as Record<OutcomeHook, (a: unknown, b: unknown) => void>)[hook](
      first,
      second,
    );
  } catch (error) {
    gate.hookErrors++;
    gate.report(`failed in its ${hook} hook`, error);
  }
}

/**
 * A plugin call's context; its signal is made only when the plugin reads it (a synchronous hook
 * costs no controller). Once aborted, a signal read for the first time is born aborted, with
 * the same reason: a plugin that awaits past its budget and only then looks must still see it.
 */
export class GateContext implements IntakeContext {
  readonly space: string;
  readonly method: string;
  readonly path: string;
  readonly via: IntakeVia;
  private controller: AbortController | undefined;
  private aborted = false;
  private reason: unknown;

  constructor(target: IntakeTarget, via: IntakeVia) {
    this.space = target.space;
    this.method = target.method;
    this.path = target.path;
    this.via = via;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Aborts the signal, read already or not. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  /** A fresh, unread signal for the next plugin of a synchronous run. */
  reset(): void {
    this.controller = undefined;
    this.aborted = false;
    this.reason = undefined;
  }
}

export class BudgetExceeded extends Error {}

/** The promise's value, or BudgetExceeded once `ms` pass (the context's signal is then aborted). */
export function withinBudget<T>(
  pending: PromiseLike<T>,
  ms: number,
  context: GateContext,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new BudgetExceeded(`no answer within ${ms} ms`);
      context.abort(error);
      reject(error);
    }, ms);
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Refuses a malformed plugin (or one whose name is taken) before it is added. */
export function checkPlugin(plugin: IntakePlugin, gates: readonly Gate[]): void {
  if (typeof plugin !== 'object' || plugin === null) {
    throw new ValidationError('use(plugin): a plugin must be an object with a "name".');
  }
  const { name, timeout, failOpen } = plugin;
  if (typeof name !== 'string' || name === '' || name.length > 100) {
    throw new ValidationError(
      'use(plugin): "name" must be a non-empty string of at most 100 characters.',
    );
  }
  if (gates.some((g) => g.plugin.name === name)) {
    throw new ValidationError(`use(plugin): a plugin named "${name}" is in use already.`);
  }
  if (
    timeout !== undefined &&
    (!Number.isInteger(timeout) || timeout <= 0 || timeout > MAX_TIMER_MS)
  ) {
    throw new ValidationError(
      `use(plugin): plugin "${name}": "timeout" must be a positive integer (ms).`,
    );
  }
  if (failOpen !== undefined && typeof failOpen !== 'boolean') {
    throw new ValidationError(`use(plugin): plugin "${name}": "failOpen" must be a boolean.`);
  }
  for (const hook of [
    'attach',
    'onEvent',
    'accepted',
    'delivered',
    'deadLettered',
    'close',
    'stats',
  ] as const) {
    if (plugin[hook] !== undefined && typeof plugin[hook] !== 'function') {
      throw new ValidationError(`use(plugin): plugin "${name}": "${hook}" must be a function.`);
    }
  }
}
