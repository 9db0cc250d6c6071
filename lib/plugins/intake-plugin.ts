import type { DeadLetter } from './dead-letter';
import type { CloudEvent } from '../model/cloud-event';
import type { ArchiveDroppedReport } from '../model/system-events';

/** How an event came into the gateway. */
export type IntakeVia = 'emit' | 'http' | 'batch' | 'replay' | 'source';

/** What an intake plugin knows of an event besides the event itself. */
export interface IntakeContext {
  readonly space: string;
  /** The method the event arrived with (`POST` for `emit`, unless given). */
  readonly method: string;
  /** The path the event arrived at (`/` for `emit`, unless given). */
  readonly path: string;
  /**
   * The way in: `emit` (the library call), `http` (the Events API: a structured or binary
   * CloudEvent, or a plain request made an `http.request` event), `batch` (one event of a batch
   * posted to the Events API) or `replay` (`gateway.replay`).
   */
  readonly via: IntakeVia;
  /** Aborted when the plugin's time budget runs out: pass it to what the plugin waits on. */
  readonly signal: AbortSignal;
}

/** An accepted event's context, as the `accepted` hook receives it. */
export interface AcceptedContext extends Omit<IntakeContext, 'signal'> {
  /** Deliveries accepted for it (0 when no subscription matched). */
  readonly deliveries: number;
}

/**
 * What an `onEvent` hook decides. Nothing (`undefined`) lets the event through unchanged.
 * - `{ refuse: reason, status? }` refuses it: nothing is delivered, `emit` rejects with
 *   EventRefusedError, the Events API answers `status` (default 403) with the reason.
 * - `{ extensions }` adds or replaces extension attributes (lower-case letters and digits;
 *   string, number or boolean values). Nothing else of an event can be changed.
 */
export type IntakeVerdict =
  | { readonly refuse: string; readonly status?: 400 | 403 | 429 | 503 }
  | { readonly extensions: Readonly<Record<string, string | number | boolean>> };

/** A delivery that succeeded, as the `delivered` hook receives it. */
export interface DeliveredEvent {
  readonly space: string;
  readonly event: CloudEvent;
  readonly subscriptionId: string;
  readonly functionId: string;
  readonly attempts: number;
}

/** What a plugin may ask of the gateway it is used by (given to `attach`). */
export interface PluginHost {
  /** Reports a failure that has no caller (as `gateway.error`, or a process warning). */
  reportError(error: Error): void;
  /**
   * Raises the `archive.dropped` system event in `space` (locally, and to functions subscribed
   * to `eventgateway.archive.dropped`).
   */
  archiveDropped(space: string, report: ArchiveDroppedReport): void;
}

/**
 * An intake plugin: hooks that see every event coming into a gateway, whatever its way in, in
 * the order plugins were given (the `plugins` option, then `gateway.use`). Every hook is
 * optional. System events (`eventgateway.*`) and configuration calls do not pass through them.
 *
 * `onEvent` runs before routing and may refuse or enrich the event; a hook that throws, rejects
 * or runs past `timeout` refuses it (fail closed) unless the plugin is `failOpen`. The outcome
 * hooks (`accepted`, `delivered`, `deadLettered`) run after the fact: what they throw is
 * reported, never passed on.
 *
 * @example
 * ```ts
 * gateway.use({
 *   name: 'tenant',
 *   onEvent: (event) =>
 *     typeof event.tenant === 'string' ? { extensions: { region: 'eu' } } : { refuse: 'no tenant', status: 400 },
 * });
 * ```
 */
export interface IntakePlugin {
  /** Names the plugin in metrics, errors and refusals. */
  readonly name: string;
  /**
   * Time budget (ms) of an `onEvent` call that returns a promise.
   * @default 1000
   */
  readonly timeout?: number;
  /**
   * When `onEvent` throws or runs out of time, let the event through unchanged (reported, and
   * counted) rather than refuse it.
   * @default false
   */
  readonly failOpen?: boolean;
  /** Called once when the gateway takes the plugin. */
  attach?(host: PluginHost): void;
  /** Sees each event before routing: let it through, refuse it, or add extensions. */
  onEvent?(
    event: CloudEvent,
    context: IntakeContext,
  ): IntakeVerdict | undefined | void | Promise<IntakeVerdict | undefined | void>;
  /** An event was accepted (its deliveries are queued, or recorded with a journal). */
  accepted?(event: CloudEvent, context: AcceptedContext): void;
  /** A delivery succeeded. */
  delivered?(delivery: DeliveredEvent): void;
  /** A delivery failed for good (as the `onDeadLetter` option receives it). */
  deadLettered?(letter: DeadLetter): void;
  /**
   * Called by `gateway.close()` once deliveries are drained, with the time left (ms): a sink
   * flushes here. What it could not finish it reports itself.
   */
  close?(timeoutMs: number): Promise<void> | void;
  /** Figures for metrics (`gateway.metrics().plugins[i].stats`), e.g. an archive's buffer. */
  stats?(): Readonly<Record<string, number>>;
}
