import { isWildcardType, wildcardsOf } from '../model/event-type';
import type { CompiledPattern } from '../model/event-pattern';
import type { ConfigChange } from '../cache/catalog';
import type { CorsRecord } from '../model/cors';
import type { SubscriptionRecord } from '../model/subscription';
import { isSystemEventType } from '../model/system-events';
import { PathTrie, type RouteMatch } from './path-trie';
import { PatternCache } from './pattern-cache';

const NONE: readonly RouteMatch<SubscriptionRecord>[] = Object.freeze([]);

interface EventTypeRoutes {
  readonly async: Map<string, PathTrie<SubscriptionRecord>>;
  readonly sync: Map<string, PathTrie<SubscriptionRecord>>;
}

/**
 * Finds the subscriptions an event goes to. Indexed by space, then event type, then method, then
 * path: a lookup never looks at other spaces' or other event types' subscriptions. Kept up to
 * date incrementally from configuration changes; it does no I/O.
 */
export class Router {
  private readonly spaces = new Map<string, Map<string, EventTypeRoutes>>();
  /** The routed record of each subscription, so that removal finds the exact value stored. */
  private readonly routed = new Map<string, Map<string, SubscriptionRecord>>();
  private routedCount = 0;
  /** Subscriptions to system event types: while there are none, system events cost no lookup. */
  private systemSubscriptions = 0;
  /** Wildcard subscriptions per space: while a space has none, lookups try no wildcard. */
  private readonly wildcards = new Map<string, number>();
  /** Wildcard subscriptions in all spaces: while 0, emits pay no lookup at all for them. */
  private wildcardCount = 0;
  /** Each filtered subscription's pattern, compiled once when the subscription is routed. */
  private readonly filters = new WeakMap<SubscriptionRecord, CompiledPattern>();
  /** Compiled patterns, one per distinct filter in use. */
  private readonly patterns = new PatternCache();
  /** CORS configurations by space, then method. */
  private readonly cors = new Map<string, Map<string, PathTrie<CorsRecord>>>();

  /** How many subscriptions are routed. */
  get size(): number {
    return this.routedCount;
  }

  /** Applies configuration changes (only subscriptions matter here). */
  apply(changes: readonly ConfigChange[]): void {
    for (const change of changes) {
      if (change.resource === 'cors') {
        if (change.prev)
          this.corsTrie(change.prev as CorsRecord)?.remove(
            (change.prev as CorsRecord).path,
            change.prev as CorsRecord,
          );
        if (change.record)
          this.corsTrie(change.record as CorsRecord, true)?.add(
            (change.record as CorsRecord).path,
            change.record as CorsRecord,
          );
        continue;
      }
      if (change.resource !== 'subscription') continue;
      if (change.prev) this.remove(change.prev as SubscriptionRecord);
      if (change.record) this.add(change.record as SubscriptionRecord);
    }
  }

  /** Every async subscription of the space and event type whose method and path match. */
  asyncTargets(
    space: string,
    eventType: string,
    method: string,
    path: string,
  ): readonly RouteMatch<SubscriptionRecord>[] {
    const byType = this.spaces.get(space);
    const trie = byType?.get(eventType)?.async.get(method);
    const exact = trie ? trie.matchAll(path) : NONE;
    if (!byType || this.wildcardCount === 0 || !this.wildcards.get(space)) return exact;
    let all: RouteMatch<SubscriptionRecord>[] | undefined;
    for (const wildcard of wildcardsOf(eventType)) {
      const matched = byType.get(wildcard)?.async.get(method)?.matchAll(path);
      if (matched?.length) (all ??= [...exact]).push(...matched);
    }
    return all ?? exact;
  }

  /** The sync subscription that answers the request, if any (best route wins). */
  syncTarget(
    space: string,
    eventType: string,
    method: string,
    path: string,
  ): RouteMatch<SubscriptionRecord> | undefined {
    const byType = this.spaces.get(space);
    let match = byType?.get(eventType)?.sync.get(method)?.matchBest(path);
    // No route for the type itself: the most specific wildcard that has one answers.
    if (!match && byType && this.wildcards.get(space)) {
      for (const wildcard of wildcardsOf(eventType)) {
        match = byType.get(wildcard)?.sync.get(method)?.matchBest(path);
        if (match) break;
      }
    }
    return match && { value: match.values[0], params: match.params };
  }

  /** The CORS configuration for a request's space, method and path (best route wins), if any. */
  corsFor(space: string, method: string, path: string): CorsRecord | undefined {
    return this.cors.get(space)?.get(method)?.matchBest(path)?.values[0];
  }

  private corsTrie(record: CorsRecord, create = false): PathTrie<CorsRecord> | undefined {
    let byMethod = this.cors.get(record.space);
    if (!byMethod) {
      if (!create) return undefined;
      this.cors.set(record.space, (byMethod = new Map()));
    }
    let trie = byMethod.get(record.method);
    if (!trie && create) byMethod.set(record.method, (trie = new PathTrie()));
    return trie;
  }

  /** True when the space has any subscription for the event type (a cheap check before work). */
  hasSubscribers(space: string, eventType: string): boolean {
    const byType = this.spaces.get(space);
    if (!byType) return false;
    if (byType.has(eventType)) return true;
    return !!this.wildcards.get(space) && wildcardsOf(eventType).some((w) => byType.has(w));
  }

  /** True when some subscription names a system event type, in any space. */
  get hasSystemSubscribers(): boolean {
    return this.systemSubscriptions > 0;
  }

  private routes(
    sub: SubscriptionRecord,
    create: boolean,
  ): Map<string, PathTrie<SubscriptionRecord>> | undefined {
    let byType = this.spaces.get(sub.space);
    if (!byType) {
      if (!create) return undefined;
      this.spaces.set(sub.space, (byType = new Map()));
    }
    let routes = byType.get(sub.eventType);
    if (!routes) {
      if (!create) return undefined;
      byType.set(sub.eventType, (routes = { async: new Map(), sync: new Map() }));
    }
    return sub.type === 'sync' ? routes.sync : routes.async;
  }

  /** The compiled filter of a routed subscription, if it has one. */
  filterOf(sub: SubscriptionRecord): CompiledPattern | undefined {
    return this.filters.get(sub);
  }

  private add(sub: SubscriptionRecord): void {
    if (sub.filter !== undefined) this.filters.set(sub, this.patterns.acquire(sub.filter));
    const byMethod = this.routes(sub, true) as Map<string, PathTrie<SubscriptionRecord>>;
    let trie = byMethod.get(sub.method);
    if (!trie) byMethod.set(sub.method, (trie = new PathTrie()));
    trie.add(sub.path, sub);
    let bySpace = this.routed.get(sub.space);
    if (!bySpace) this.routed.set(sub.space, (bySpace = new Map()));
    if (!bySpace.has(sub.subscriptionId)) this.routedCount++;
    bySpace.set(sub.subscriptionId, sub);
    if (isSystemEventType(sub.eventType)) this.systemSubscriptions++;
    if (isWildcardType(sub.eventType)) {
      this.wildcards.set(sub.space, (this.wildcards.get(sub.space) ?? 0) + 1);
      this.wildcardCount++;
    }
  }

  private remove(prev: SubscriptionRecord): void {
    const bySpace = this.routed.get(prev.space);
    const sub = bySpace?.get(prev.subscriptionId);
    if (!sub) return;
    (bySpace as Map<string, SubscriptionRecord>).delete(sub.subscriptionId);
    this.routedCount--;
    if (sub.filter !== undefined) this.patterns.release(sub.filter);
    if (isSystemEventType(sub.eventType)) this.systemSubscriptions--;
    if (isWildcardType(sub.eventType)) {
      this.wildcards.set(sub.space, (this.wildcards.get(sub.space) ?? 1) - 1);
      this.wildcardCount--;
    }
    const byMethod = this.routes(sub, false) as Map<string, PathTrie<SubscriptionRecord>>;
    const trie = byMethod.get(sub.method) as PathTrie<SubscriptionRecord>;
    trie.remove(sub.path, sub);
    if (trie.size === 0) byMethod.delete(sub.method);
    const byType = this.spaces.get(sub.space) as Map<string, EventTypeRoutes>;
    const routes = byType.get(sub.eventType) as EventTypeRoutes;
    if (routes.async.size === 0 && routes.sync.size === 0) byType.delete(sub.eventType);
    if (byType.size === 0) this.spaces.delete(sub.space);
  }
}
