/** The shape of an exponential backoff: {@link exponentialDelay}'s second argument. */
export interface ExponentialDelayOptions {
  /** The delay (or with jitter, the cap) of the first retry, in ms. */
  initialDelay: number;
  /** The largest delay (or cap), in ms. */
  maxDelay: number;
  /**
   * Full jitter: a random delay between 0 and the cap, so that many callers retrying one failing
   * peer spread out instead of striking together. Without it, the delay is the cap itself.
   * @default true
   */
  jitter?: boolean;
}

/**
 * The delay before retry number `retry` (0 for the first): `initialDelay` doubled per retry up to
 * `maxDelay`, with full jitter (a whole ms in [0, cap)) unless turned off. The core's one backoff:
 * deliveries, the configuration cache and the stores all take their delays from here.
 *
 * Why not cockatiel's (a dependency, whose `ExponentialBackoff` the archives use): cockatiel is
 * loaded lazily, with the first archive, and the root (`require('event-gateway')`) must not load it
 * (__tests__/package-surface.test.ts); this is the core, on the delivery path. The formulas are
 * cockatiel's own `noJitterGenerator` and `fullJitterGenerator`, computed synchronously for loops
 * that keep only a retry count.
 *
 * @example
 * ```ts
 * await pause(exponentialDelay(attempt++, { initialDelay: 25, maxDelay: 1000, jitter: false }));
 * ```
 */
export function exponentialDelay(retry: number, options: ExponentialDelayOptions): number {
  const cap = Math.min(options.maxDelay, options.initialDelay * 2 ** retry);
  return options.jitter === false ? cap : Math.floor(Math.random() * cap);
}
