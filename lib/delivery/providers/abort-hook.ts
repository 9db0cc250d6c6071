import type { InvocationContext } from '../provider';

/** An emitter-style abort signal (the shape undici also accepts). */
export interface AbortHook {
  readonly aborted: boolean;
  readonly reason: unknown;
  on(event: 'abort', listener: () => void): void;
  once(event: 'abort', listener: () => void): void;
  removeListener(event: 'abort', listener: () => void): void;
}

/**
 * The signal to watch for an attempt. An AbortSignal per request (an AbortController behind it)
 * cost about a quarter of the http provider's throughput here; the gateway's own attempts offer
 * an emitter-style interface instead, at no cost until they are aborted. Other contexts (a
 * provider called by a host directly) fall back to their `signal`.
 */
export function abortHook(context: InvocationContext): AbortHook | AbortSignal {
  const hook = context as unknown as Partial<AbortHook>;
  return typeof hook.on === 'function' &&
    typeof hook.once === 'function' &&
    typeof hook.removeListener === 'function' &&
    !('addEventListener' in hook)
    ? (hook as AbortHook)
    : context.signal;
}
