import type { Catalog } from '../cache/catalog';
import { Delivery } from '../delivery/delivery';
import { ValidationError } from '../errors';
import { withExtension } from '../events/cloudevent';
import { DELIVERY_ID } from '../events/gateway-extensions';
import type { JournalEntry } from '../journal/journal';
import type { CloudEvent } from '../model/cloud-event';
import type { FunctionRecord } from '../model/function';
import { MatchBudget } from '../model/match-budget';
import { resolveRetry, type RetryPolicy } from '../model/retry-options';
import type { SubscriptionRecord } from '../model/subscription';
import type { DeliveryOutcome } from '../delivery/delivery';
import type { RouteMatch } from '../router/path-trie';
import type { Router } from '../router/router';
import type { Explanation } from './explanation';
import type { Where } from './outcomes';

/** What the route stage needs. */
export interface RouteDeps {
  readonly catalog: Pick<Catalog, 'get' | 'version'>;
  readonly router: Router;
  readonly retry: RetryPolicy;
  readonly timeout: number;
  /** Most steps one event may take to match its candidates' filters. */
  readonly maxFilterWork: number;
}

/**
 * The pipeline's routing stage: (space, type, method, path) to subscriptions through the
 * router, then their content filters under one MatchBudget, then a Delivery per match. No I/O.
 */
export class RouteStage {
  private readonly policies = new WeakMap<FunctionRecord, RetryPolicy>();
  /**
   * Each subscription's function, retry policy and timeout, as of a catalog version: one
   * identity lookup per delivery (~10 ns) rather than the catalog's two string-keyed Map lookups
   * and the policy's (~40 ns together, measured in place). Weak: a replaced subscription's entry
   * goes with it.
   */
  private readonly resolved = new WeakMap<SubscriptionRecord, ResolvedFunction>();

  constructor(private readonly deps: RouteDeps) {}

  /**
   * The async subscriptions an event goes to. Filters run after the (space, type, method, path)
   * lookup, their cost never depends on other types' subscriptions; throws FilterBudgetError
   * when they take more than `maxFilterWork` steps (before any delivery exists).
   */
  match(
    event: CloudEvent,
    { space, method, path }: Where,
  ): readonly RouteMatch<SubscriptionRecord>[] {
    const candidates = this.deps.router.asyncTargets(space, event.type, method, path);
    let out: RouteMatch<SubscriptionRecord>[] | undefined;
    // One budget for all the candidates' filters, made at the first one.
    let budget: MatchBudget | undefined;
    for (let i = 0; i < candidates.length; i++) {
      const subscription = candidates[i].value;
      const filter = subscription.filter && this.deps.router.filterOf(subscription);
      if (filter && !filter.matches(event, (budget ??= new MatchBudget(this.deps.maxFilterWork)))) {
        // The first miss copies the matches so far; without filters nothing is allocated.
        out ??= candidates.slice(0, i);
      } else out?.push(candidates[i]);
    }
    return out ?? candidates;
  }

  /**
   * A Delivery per matched subscription, written into `tasks` from its start (an empty array, or
   * one the caller sized to `targets`: a pushed-onto empty array would reserve room for 17), which
   * is then cut to those made; returns those whose function this instance lacks (undefined when
   * none: the common case makes no second array). `journaled`:
   * each gets a delivery ID (carried as the `deliveryid` extension, so functions can tell a
   * redelivery); `settled[i]` hears the i-th's outcome (`wait: true`).
   */
  deliveries(
    event: CloudEvent,
    space: string,
    targets: readonly RouteMatch<SubscriptionRecord>[],
    system: boolean,
    journaled: boolean,
    tasks: Delivery[],
    settled?: (index: number) => (outcome: DeliveryOutcome) => void,
  ): Delivery[] | undefined {
    let missing: Delivery[] | undefined;
    let count = 0;
    for (let index = 0; index < targets.length; index++) {
      const subscription = targets[index].value;
      const { fn, retry, timeout } = this.functionOf(space, subscription);
      const deliveryId = journaled && fn ? newDeliveryId() : undefined;
      const task = new Delivery({
        space,
        event: deliveryId ? withExtension(event, DELIVERY_ID, deliveryId) : event,
        subscription,
        fn: fn ?? { space, functionId: subscription.functionId, type: 'local', provider: {} },
        retry,
        timeout,
        system,
        onSettled: settled?.(index),
      });
      if (deliveryId !== undefined) task.deliveryId = deliveryId;
      if (fn) tasks[count++] = task;
      else (missing ??= []).push(task);
    }
    if (tasks.length !== count) tasks.length = count;
    return missing;
  }

  /** A delivery from the journal, with its attempts and age (its function's stand-in if gone). */
  fromJournal(entry: JournalEntry): Delivery {
    const fn = this.deps.catalog.get('functions', entry.space, entry.functionId);
    const subscription = this.deps.catalog.get(
      'subscriptions',
      entry.space,
      entry.subscriptionId,
    ) ?? {
      space: entry.space,
      subscriptionId: entry.subscriptionId,
      functionId: entry.functionId,
    };
    const task = new Delivery({
      space: entry.space,
      event: entry.event,
      subscription: subscription as SubscriptionRecord,
      fn: fn ?? { space: entry.space, functionId: entry.functionId, type: 'local', provider: {} },
      retry: fn ? this.policy(fn) : this.deps.retry,
      timeout: (fn?.provider.timeout as number | undefined) ?? this.deps.timeout,
      system: false,
    });
    task.deliveryId = entry.deliveryId;
    task.attempts = entry.attempts;
    // Its age goes on across the restart (a firstAt before this process began is fine).
    task.firstAt =
      performance.now() - Math.max(0, Date.now() - entry.acceptedAt) || Number.MIN_VALUE;
    return task;
  }

  /** Every candidate subscription of an event, matched or not, and why not: see `Gateway.explain`. */
  explain(event: CloudEvent, where: Where): Explanation {
    const { space, method, path } = where;
    const candidates = this.deps.router.asyncTargets(space, event.type, method, path);
    const budget = new MatchBudget(this.deps.maxFilterWork);
    return {
      eventId: event.id,
      eventType: event.type,
      space,
      method,
      path,
      subscriptions: candidates.map(({ value: subscription }) => {
        const miss = subscription.filter
          ? this.deps.router.filterOf(subscription)?.explain(event, budget)
          : undefined;
        return {
          subscriptionId: subscription.subscriptionId,
          functionId: subscription.functionId,
          matched: miss === undefined,
          ...(miss ? { failed: miss } : {}),
        };
      }),
    };
  }

  /** The subscription's function in the catalog now, with its retry policy and timeout. */
  private functionOf(space: string, subscription: SubscriptionRecord): ResolvedFunction {
    const { version } = this.deps.catalog;
    let resolved = this.resolved.get(subscription);
    if (resolved === undefined || resolved.version !== version) {
      const fn = this.deps.catalog.get('functions', space, subscription.functionId);
      resolved = {
        version,
        fn,
        retry: fn ? this.policy(fn) : this.deps.retry,
        timeout: (fn?.provider.timeout as number | undefined) ?? this.deps.timeout,
      };
      this.resolved.set(subscription, resolved);
    }
    return resolved;
  }

  private policy(fn: FunctionRecord): RetryPolicy {
    let policy = this.policies.get(fn);
    if (!policy) {
      try {
        policy = resolveRetry(fn.retry, this.deps.retry, (detail) => {
          throw new ValidationError(detail);
        });
      } catch {
        policy = this.deps.retry; // validated at registration; a foreign record falls back
      }
      this.policies.set(fn, policy);
    }
    return policy;
  }
}

/** A subscription's function as the catalog had it at `version` (undefined: not configured). */
interface ResolvedFunction {
  readonly version: number;
  readonly fn: FunctionRecord | undefined;
  readonly retry: RetryPolicy;
  readonly timeout: number;
}

function newDeliveryId(): string {
  // Required here: only gateways with a journal load node:crypto.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
  return (require('node:crypto') as typeof import('node:crypto')).randomUUID();
}
