import { MAX_TIMER_MS } from '../model/checks';

/**
 * What {@link beforeDeadline} rejects with when the deadline comes first. A plain error, not a
 * GatewayError: for a write it means "no answer", which may still hide a commit.
 */
export class DeadlinePassed extends Error {
  constructor() {
    super('no answer before the deadline');
  }
}

/**
 * `work`, or a rejection with {@link DeadlinePassed} at `deadline` (a `Date.now()` time) if it
 * has not settled by then. The work itself goes on: a request already sent may still be applied.
 * The timer is unref'd: a caller that awaits this holds the process itself (keepAliveWhile).
 *
 * @example
 * ```ts
 * const head = await beforeDeadline(backend.readHead(), Date.now() + 5000);
 * ```
 */
export function beforeDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlinePassed()),
      Math.min(Math.max(0, deadline - Date.now()), MAX_TIMER_MS),
    );
    timer.unref();
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * Resolves after `ms` on an unref'd timer: a pause between retries that does not, on its own,
 * keep the process alive.
 *
 * @example
 * ```ts
 * await pause(50);
 * ```
 */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
