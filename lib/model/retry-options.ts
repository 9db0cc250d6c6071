import { MAX_TIMER_MS } from './checks';

/** How failed deliveries are retried. */
export interface RetryOptions {
  /**
   * Attempts in all, the first included; 1 turns retries off.
   * @default 5
   */
  maxAttempts?: number;
  /**
   * The backoff cap of the first retry, in ms; it doubles on each retry (full jitter: the actual
   * delay is random between 0 and the cap).
   * @default 100
   */
  initialDelay?: number;
  /**
   * The largest backoff cap, in ms.
   * @default 10000
   */
  maxDelay?: number;
  /**
   * How long after the first attempt a delivery may still be retried, in ms.
   * @default 60000
   */
  maxAge?: number;
}

/** {@link RetryOptions} with defaults applied. */
export type RetryPolicy = Readonly<Required<RetryOptions>>;

/** The retry policy when none is given. */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  initialDelay: 100,
  maxDelay: 10_000,
  maxAge: 60_000,
});

const FIELDS = ['maxAttempts', 'initialDelay', 'maxDelay', 'maxAge'] as const;

/** Merges retry options over a base policy; `fail` reports what is wrong (and throws). */
export function resolveRetry(
  options: unknown,
  base: RetryPolicy,
  fail: (detail: string) => never,
): RetryPolicy {
  if (options === undefined) return base;
  if (typeof options !== 'object' || options === null) fail(`"retry" must be an object.`);
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      fail(`unknown field "retry.${key}" (allowed: ${FIELDS.join(', ')}).`);
    }
  }
  const policy = { ...base };
  for (const field of FIELDS) {
    const value = given[field];
    if (value === undefined) continue;
    const min = field === 'maxAttempts' ? 1 : 0;
    if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < min ||
      value > MAX_TIMER_MS
    ) {
      fail(`"retry.${field}" must be an integer from ${min} to ${MAX_TIMER_MS}.`);
    }
    policy[field] = value;
  }
  return Object.freeze(policy);
}
