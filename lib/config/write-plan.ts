import type { Catalog } from '../cache/catalog';
import type { ProviderValidator } from '../model/function';
import type { KeyLayout } from '../model/key-layout';
import type { OutboundCheck } from '../model/outbound-policy';
import type { Compare, Operation } from '../store/store';

/**
 * What a write needs to know: the catalog as this instance's cache has it, and the revision that
 * catalog reflects. Rules decide from the catalog and guard their decision with store compares,
 * so that a decision made on a stale cache fails in the store instead of corrupting it.
 */
export interface RuleContext {
  readonly catalog: Catalog;
  readonly layout: KeyLayout;
  /** The store revision the catalog reflects. */
  readonly revision: number;
  /** Validators of plug-in provider types, by type. */
  readonly providerValidators: ReadonlyMap<string, ProviderValidator | undefined>;
  /**
   * Where functions may be reached, for a write by `writer` in `space`: checked on every function
   * URL written.
   */
  outboundFor(space: string, writer: 'tenant' | undefined): OutboundCheck;
  /** The host's limits on each space's connections. @default none */
  readonly limits?: ConnectionLimits;
}

/**
 * The host's limits on each space's connections (the `limits` option of `createGateway`),
 * resolved: what a tenant may not create however it asks.
 */
export interface ConnectionLimits {
  /** The most connections a space may hold; none when undefined. */
  readonly connectionsPerSpace?: number;
  /**
   * The most event types, functions, subscriptions or CORS configurations (each kind on its own)
   * a tenant may create in a space; none when undefined.
   */
  readonly recordsPerSpace?: number;
  /** The shortest time between two ticks of a schedule, in ms; none when undefined. */
  readonly minScheduleInterval?: number;
  /**
   * The shortest time between two ticks of a cron expression, in ms (throws for an invalid
   * one): given with `minScheduleInterval`.
   */
  readonly scheduleGap?: (cron: string, timezone?: string) => number;
}

/** One transaction and what the write resolves with when it commits. */
export interface WritePlan<T> {
  readonly compares: Compare[];
  readonly operations: Operation[];
  readonly result: T;
}
