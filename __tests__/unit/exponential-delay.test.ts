import { backoffDelay } from '../../lib/delivery/backoff';
import { exponentialDelay } from '../../lib/model/exponential-delay';
import { DEFAULT_RETRY } from '../../lib/model/retry-options';

test('without jitter the delay doubles from initialDelay up to maxDelay', () => {
  const delays = [0, 1, 2, 3, 4, 5].map((retry) =>
    exponentialDelay(retry, { initialDelay: 25, maxDelay: 500, jitter: false }),
  );
  expect(delays).toEqual([25, 50, 100, 200, 400, 500]);
});

test('with full jitter the delay is a whole ms between 0 and the cap, and spreads out', () => {
  for (const [retry, cap] of [
    [0, 100],
    [3, 800],
    [20, 10_000],
  ]) {
    const delays = Array.from({ length: 200 }, () =>
      exponentialDelay(retry, { initialDelay: 100, maxDelay: 10_000 }),
    );
    for (const delay of delays) {
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(cap);
    }
    expect(new Set(delays).size).toBeGreaterThan(10);
  }
});

test("a delivery's backoff counts retries from 1, and a Retry-After is its floor", () => {
  for (let i = 0; i < 100; i++) {
    expect(backoffDelay(DEFAULT_RETRY, 1)).toBeLessThan(DEFAULT_RETRY.initialDelay);
    expect(backoffDelay(DEFAULT_RETRY, 2)).toBeLessThan(2 * DEFAULT_RETRY.initialDelay);
    expect(backoffDelay(DEFAULT_RETRY, 1, 5000)).toBe(5000);
    expect(backoffDelay(DEFAULT_RETRY, 30)).toBeLessThan(DEFAULT_RETRY.maxDelay);
  }
});
