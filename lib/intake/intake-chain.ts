import type { DeadLetter } from '../plugins/dead-letter';
import { EventRefusedError, IntakeFailedError, ValidationError } from '../errors';
import { withExtensions } from '../events/cloudevent';
import type { CloudEvent } from '../model/cloud-event';
import { GATEWAY_EXTENSIONS } from '../events/gateway-extensions';
import { MAX_TIMER_MS } from '../model/checks';
import { describeError } from '../model/describe-error';
import type { PluginMetrics } from '../metrics/plugin-metrics';
import type {
  AcceptedContext,
  DeliveredEvent,
  IntakePlugin,
  IntakeVia,
  PluginHost,
} from '../plugins/intake-plugin';

import {
  BudgetExceeded,
  checkPlugin,
  Gate,
  GateContext,
  isThenable,
  notify,
  withinBudget,
  type IntakeTarget,
} from './plugin-gate';

export type { IntakeTarget } from './plugin-gate';

/** The statuses a plugin may refuse with (anything else is 403). */
const REFUSAL_STATUSES: ReadonlySet<unknown> = new Set([400, 403, 429, 503]);

/**
 * Runs intake plugins in order: `onEvent` before routing (refuse, enrich, fail closed or open,
 * each within its time budget), and the outcome hooks after. Synchronous hooks cost no promise
 * and no timer; the list is copied on change, so an event in flight keeps the plugins it began
 * with.
 */
export class IntakeChain {
  private gates: readonly Gate[] = [];
  private screening: readonly Gate[] = [];
  private onAccepted: readonly Gate[] = [];
  private onDelivered: readonly Gate[] = [];
  private onDeadLettered: readonly Gate[] = [];

  constructor(private readonly host: PluginHost) {}

  /** True when some plugin has an `onEvent` hook. */
  get screens(): boolean {
    return this.screening.length > 0;
  }

  /** True when some plugin has an `accepted` hook (else its context is not even made). */
  get hearsAccepted(): boolean {
    return this.onAccepted.length > 0;
  }

  /** True when some plugin has a `delivered` hook. */
  get watchesDeliveries(): boolean {
    return this.onDelivered.length > 0;
  }

  /** Adds a plugin at the end. Throws ValidationError (adding nothing) for a malformed one. */
  add(plugin: IntakePlugin): void {
    checkPlugin(plugin, this.gates);
    plugin.attach?.(this.host);
    const gate = new Gate(plugin, this.host);
    this.gates = [...this.gates, gate];
    const having = (hook: keyof IntakePlugin) =>
      this.gates.filter((g) => typeof g.plugin[hook] === 'function');
    this.screening = having('onEvent');
    this.onAccepted = having('accepted');
    this.onDelivered = having('delivered');
    this.onDeadLettered = having('deadLettered');
  }

  /**
   * The event as the plugins let it through (maybe with extensions), synchronously when every
   * hook answered synchronously. Throws (or rejects with) EventRefusedError or IntakeFailedError.
   */
  admit(event: CloudEvent, target: IntakeTarget, via: IntakeVia): CloudEvent | Promise<CloudEvent> {
    const gates = this.screening;
    let current = event;
    // One context for the synchronous run: each plugin gets a signal of its own, made on demand.
    const context = new GateContext(target, via);
    for (let i = 0; i < gates.length; i++) {
      const gate = gates[i];
      context.reset();
      const started = performance.now();
      let answer: unknown;
      let later: boolean;
      try {
        answer = gate.plugin.onEvent!(current, context);
        later = isThenable(answer); // a hostile `then` getter throws here, as the plugin's failure
      } catch (error) {
        current = this.failure(gate, current, error, started, false);
        continue;
      }
      if (later) {
        return this.admitAsync(
          gates,
          i,
          current,
          target,
          via,
          answer as PromiseLike<unknown>,
          context,
          started,
        );
      }
      current = this.verdict(gate, current, answer, started);
    }
    return current;
  }

  private async admitAsync(
    gates: readonly Gate[],
    index: number,
    event: CloudEvent,
    target: IntakeTarget,
    via: IntakeVia,
    pending: PromiseLike<unknown>,
    context: GateContext,
    started: number,
  ): Promise<CloudEvent> {
    let current = event;
    for (let i = index; i < gates.length; i++) {
      const gate = gates[i];
      if (i > index) {
        context = new GateContext(target, via);
        started = performance.now();
        try {
          pending = gate.plugin.onEvent!(current, context) as PromiseLike<unknown>;
        } catch (error) {
          current = this.failure(gate, current, error, started, false);
          continue;
        }
      }
      let answer: unknown;
      try {
        answer = isThenable(pending) ? await withinBudget(pending, gate.timeout, context) : pending;
      } catch (error) {
        current = this.failure(gate, current, error, started, error instanceof BudgetExceeded);
        continue;
      }
      current = this.verdict(gate, current, answer, started);
    }
    return current;
  }

  /** Applies one plugin's answer: the event to go on with, or a refusal thrown. */
  private verdict(gate: Gate, event: CloudEvent, answer: unknown, started: number): CloudEvent {
    gate.events++;
    if (answer === undefined || answer === null) {
      gate.duration.observe(performance.now() - started);
      gate.passed++;
      return event;
    }
    let refuse: unknown;
    let status: unknown;
    let extensions: unknown;
    try {
      ({ refuse, status, extensions } = answer as {
        [K in 'refuse' | 'status' | 'extensions']?: unknown;
      });
      if (typeof refuse === 'string') {
        gate.duration.observe(performance.now() - started);
        gate.refused++;
        throw new EventRefusedError(
          refuse === ''
            ? `Intake plugin "${gate.plugin.name}" refused the event.`
            : refuse.slice(0, 1000),
          REFUSAL_STATUSES.has(status) ? (status as number) : 403,
          { plugin: gate.plugin.name, resource: 'event', id: event.id },
        );
      }
      if (typeof answer !== 'object' || extensions === undefined) {
        throw new ValidationError(
          `answered neither undefined, { refuse } nor { extensions }: ${describeError(answer)}`,
        );
      }
      const enriched = withExtensions(
        event,
        extensions as Record<string, unknown>,
        GATEWAY_EXTENSIONS,
      );
      gate.duration.observe(performance.now() - started);
      gate.enriched++;
      return enriched;
    } catch (error) {
      if (error instanceof EventRefusedError) throw error;
      gate.events--; // counted again by failure()
      return this.failure(gate, event, error, started, false);
    }
  }

  /** A plugin failed on an event: the event goes on unchanged (fail-open) or is refused. */
  private failure(
    gate: Gate,
    event: CloudEvent,
    error: unknown,
    started: number,
    timedOut: boolean,
  ): CloudEvent {
    gate.duration.observe(performance.now() - started);
    gate.events++;
    gate.failed++;
    if (timedOut) gate.timedOut++;
    if (gate.failOpen) {
      gate.failedOpen++;
      gate.report('failed on an event and let it through (fail-open)', error);
      return event;
    }
    // The details (the plugin's own error) go to the operator and to `cause`, never to a client.
    gate.report('failed on an event, which was refused', error);
    const what = timedOut ? `ran past its ${gate.timeout} ms time budget` : 'failed on the event';
    throw new IntakeFailedError(
      `Intake plugin "${gate.plugin.name}" ${what}; the event was refused. Retry later.`,
      { plugin: gate.plugin.name, resource: 'event', id: event.id, cause: error },
    );
  }

  /** An event was accepted: the `accepted` hooks. */
  accepted(event: CloudEvent, context: AcceptedContext): void {
    for (const gate of this.onAccepted) notify(gate, 'accepted', event, context);
  }

  /** A delivery succeeded: the `delivered` hooks. */
  delivered(delivery: DeliveredEvent): void {
    for (const gate of this.onDelivered) notify(gate, 'delivered', delivery);
  }

  /** A delivery failed for good: the `deadLettered` hooks. */
  deadLettered(letter: DeadLetter): void {
    for (const gate of this.onDeadLettered) notify(gate, 'deadLettered', letter);
  }

  /** Closes every plugin (at once), each within `timeoutMs`; failures are reported. */
  async close(timeoutMs: number): Promise<void> {
    await Promise.all(
      this.gates.map(async (gate) => {
        if (typeof gate.plugin.close !== 'function') return;
        const context = new GateContext({ space: '', method: '', path: '' }, 'emit');
        try {
          const closing = Promise.resolve().then(() => gate.plugin.close!(timeoutMs));
          await withinBudget(closing, Math.min(timeoutMs + 1000, MAX_TIMER_MS), context);
        } catch (error) {
          this.host.reportError(
            new Error(
              `Intake plugin "${gate.plugin.name}" failed to close: ${describeError(error)}`,
              {
                cause: error,
              },
            ),
          );
        }
      }),
    );
  }

  /** Every plugin's figures, in order. */
  metrics(): PluginMetrics[] {
    return this.gates.map((gate, position) => {
      let stats: Readonly<Record<string, number>> | undefined;
      try {
        stats = gate.plugin.stats?.();
      } catch (error) {
        gate.report('failed in stats()', error);
      }
      return {
        name: gate.plugin.name,
        position,
        events: gate.events,
        passed: gate.passed,
        enriched: gate.enriched,
        refused: gate.refused,
        failed: gate.failed,
        timedOut: gate.timedOut,
        failedOpen: gate.failedOpen,
        hookErrors: gate.hookErrors,
        duration: gate.duration.snapshot(),
        ...(stats ? { stats } : {}),
      };
    });
  }
}
