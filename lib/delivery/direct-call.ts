import type { Catalog } from '../cache/catalog';
import { InvocationError } from '../errors';
import type { CloudEvent } from '../model/cloud-event';
import type { LocalHandler } from '../model/function';
import type { GatewayMetrics } from '../metrics/gateway-metrics';
import { Attempt, invocationFailure, startAttempt, timedOut, TimeoutSignal } from './attempt';
import type { Provider } from './provider';

/**
 * Hears a direct call's progress (the pipeline's system events): the delivery layer reports
 * outcomes and knows nothing of who listens.
 */
export interface CallObserver {
  invoking(space: string, functionId: string, event: CloudEvent, attempt: number): void;
  invoked(
    space: string,
    functionId: string,
    event: CloudEvent,
    result: unknown,
    attempts: number,
    durationMs: number,
  ): void;
  invocationFailed(
    space: string,
    functionId: string,
    event: CloudEvent,
    error: InvocationError,
    reason: string,
    attempts: number,
  ): void;
}

/** What a direct call needs. */
export interface DirectCallDeps {
  readonly catalog: Catalog;
  readonly providers: ReadonlyMap<string, Provider>;
  readonly timeout: number;
  readonly metrics: GatewayMetrics;
  readonly system: CallObserver;
  localHandler(space: string, functionId: string): LocalHandler | undefined;
}

/**
 * Calls one function now, once, and resolves with its result: for sync subscriptions and
 * authorizers, where an HTTP request waits for the answer (so no queue and no retries). Rejects
 * with InvocationError.
 */
export function directCall(
  deps: DirectCallDeps,
  space: string,
  functionId: string,
  payload: unknown,
  /** What system events show as the event (the payload itself by default). */
  shown: unknown = payload,
): Promise<unknown> {
  const fn = deps.catalog.get('functions', space, functionId);
  if (!fn) {
    return Promise.reject(
      new InvocationError(`Function "${functionId}" not found.`, {
        retryable: false,
        resource: 'function',
        id: functionId,
        space,
      }),
    );
  }
  const timeout = (fn.provider.timeout as number | undefined) ?? deps.timeout;
  const localHandler = fn.type === 'local' ? deps.localHandler(space, functionId) : undefined;
  const attempt = new Attempt(space, fn, timeout, 1, localHandler, performance.now());
  const event = shown as CloudEvent;
  deps.system.invoking(space, functionId, event, 1);
  return new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => {
      attempt.abort(new TimeoutSignal(`timed out after ${timeout} ms`));
      fail(timedOut(fn, space, timeout));
    }, timeout);
    const succeed = (result: unknown) => {
      if (attempt.settled) return;
      attempt.settled = true;
      clearTimeout(timer);
      const durationMs = performance.now() - attempt.startedAt;
      deps.metrics.callsSucceeded++;
      deps.metrics.functions.of(space, functionId).succeeded++;
      deps.metrics.observeAttempt(durationMs, space, functionId);
      deps.system.invoked(space, functionId, event, result, 1, durationMs);
      resolve(result);
    };
    const fail = (error: unknown) => {
      if (attempt.settled) return;
      attempt.settled = true;
      clearTimeout(timer);
      deps.metrics.callsFailed++;
      const err = invocationFailure(fn, space, error);
      deps.system.invocationFailed(space, functionId, event, err, err.message, 1);
      reject(err);
    };
    const listener = {
      attemptDone: (_key: undefined, _attempt: Attempt, failed: boolean, value: unknown) =>
        failed ? fail(value) : succeed(value),
    };
    startAttempt(
      deps.providers.get(fn.type),
      fn,
      payload as CloudEvent,
      attempt,
      listener,
      undefined,
    );
  });
}
