import type { HistogramSnapshot } from './histogram';

/** One plugin's figures in `gateway.metrics().plugins`, in the order plugins run. */
export interface PluginMetrics {
  readonly name: string;
  /** 0 for the first plugin to run. */
  readonly position: number;
  /** `onEvent` calls. */
  readonly events: number;
  /** Events it let through unchanged. */
  readonly passed: number;
  /** Events it added extensions to. */
  readonly enriched: number;
  /** Events it refused. */
  readonly refused: number;
  /** Calls that threw, rejected, answered nonsense or ran out of time (timeouts included). */
  readonly failed: number;
  /** Calls that ran past the plugin's `timeout`. */
  readonly timedOut: number;
  /** Failed calls whose event went through all the same (a fail-open plugin). */
  readonly failedOpen: number;
  /** Outcome hooks (`accepted`, `delivered`, `deadLettered`) that threw. */
  readonly hookErrors: number;
  /** Time spent in `onEvent`, in ms (until the promise settled, for an async hook). */
  readonly duration: HistogramSnapshot;
  /** What the plugin reports of itself (its `stats()`), e.g. an archive's buffer. */
  readonly stats?: Readonly<Record<string, number>>;
}
