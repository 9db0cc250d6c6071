/**
 * Keeps the process alive while a caller awaits an operation.
 *
 * Background work (retry pauses, deadlines, watch checks) runs on unref'd timers so that an idle
 * gateway never holds its host's process open. But an operation a caller awaits may wait on
 * nothing else: with the store's server gone, the client's channels do not hold the event loop
 * either, and the process would end with the `await` never settled and exit code 0. So every
 * awaited operation that waits on unref'd timers is wrapped here: one ref'd timer, shared by all
 * of them, holds the process while at least one is pending. Such an operation must be bounded
 * (it ends with its typed error at its deadline), or the process would be held for ever.
 */

/** How many awaited operations are pending. */
let pending = 0;
/** The one ref'd timer that holds the process while `pending > 0`; it never fires in practice. */
let holder: NodeJS.Timeout | undefined;

function release(): void {
  if (--pending === 0) {
    clearInterval(holder);
    holder = undefined;
  }
}

/**
 * Holds the process open until `operation` settles, and returns it unchanged. Use it only for
 * operations bounded in time.
 *
 * @example
 * ```ts
 * get(key: string): Promise<KeyValue | undefined> {
 *   return keepAliveWhile(this.call(() => this.backend.readKeys([key])));
 * }
 * ```
 */
export function keepAliveWhile<T>(operation: Promise<T>): Promise<T> {
  if (pending++ === 0) holder = setInterval(() => undefined, 2 ** 30);
  operation.then(release, release);
  return operation;
}
