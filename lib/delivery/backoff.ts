import { exponentialDelay } from '../model/exponential-delay';
import type { RetryPolicy } from '../model/retry-options';

/**
 * The delay before retry number `retry` (1 for the first retry): exponential with full jitter,
 * so that many instances retrying one failing function spread out instead of striking together.
 * A Retry-After the function asked for is a floor.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, retryAfter?: number): number {
  const jittered = exponentialDelay(retry - 1, policy);
  return retryAfter === undefined ? jittered : Math.max(jittered, retryAfter);
}

/** Parses a Retry-After header (seconds, or an HTTP date) into ms; undefined when absent or bad. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now = Date.now(),
): number | undefined {
  const header = Array.isArray(value) ? value[0] : value;
  if (header === undefined || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
