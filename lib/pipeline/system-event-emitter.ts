import type { CallObserver } from '../delivery/direct-call';
import type { CloudEvent } from '../model/cloud-event';
import {
  SYSTEM_EVENT_NAMES,
  SYSTEM_EVENT_TYPES,
  systemCloudEvent,
  type SystemEvents,
  type SystemKind,
  type SystemPayload,
} from '../model/system-events';
import type { Router } from '../router/router';

/** What the system-event emitter needs. */
export interface SystemEventDeps {
  readonly router: Router;
  hasLocalListeners(name: keyof SystemEvents): boolean;
  /** True when any system event has a local listener (checked first). */
  hasSystemListeners(): boolean;
  emitLocal<K extends keyof SystemEvents>(name: K, ...payload: SystemEvents[K]): void;
  /** Routes a system event to the functions subscribed to its type in the space. */
  route(event: CloudEvent, space: string): void;
}

/**
 * Raises system events: locally (gateway.on) and to functions subscribed to the `eventgateway.*`
 * types. Callers check `wants` before building a payload, so that nobody listening costs nothing.
 */
export class SystemEventEmitter implements CallObserver {
  constructor(private readonly deps: SystemEventDeps) {}

  /** True when a system event would reach anyone: checked before its payload is even built. */
  wants(space: string, kind: SystemKind): boolean {
    const { router } = this.deps;
    if (!router.hasSystemSubscribers && !this.deps.hasSystemListeners()) return false;
    return (
      this.deps.hasLocalListeners(SYSTEM_EVENT_NAMES[kind]) ||
      (router.hasSystemSubscribers && router.hasSubscribers(space, SYSTEM_EVENT_TYPES[kind]))
    );
  }

  /** `function.invoking`, when anyone would hear it. */
  readonly invoking: CallObserver['invoking'] = (space, functionId, event, attempt) => {
    if (this.wants(space, 'invoking')) {
      this.emit(space, 'invoking', { space, functionId, event, attempt });
    }
  };

  /** `function.invoked`, with the function's real result, when anyone would hear it. */
  readonly invoked: CallObserver['invoked'] = (space, functionId, event, result, ...rest) => {
    if (this.wants(space, 'invoked')) {
      const [attempts, durationMs] = rest;
      this.emit(space, 'invoked', { space, functionId, event, result, attempts, durationMs });
    }
  };

  /** `function.invocationFailed`: a delivery failed for good, or a direct call failed. */
  readonly invocationFailed: CallObserver['invocationFailed'] = (
    space,
    functionId,
    event,
    error,
    reason,
    attempts,
  ) => {
    if (this.wants(space, 'invocationFailed')) {
      this.emit(space, 'invocationFailed', {
        space,
        functionId,
        event,
        error: { message: error.message, code: error.code },
        reason,
        ...(error.statusCode !== undefined ? { lastStatus: error.statusCode } : {}),
        attempts,
      });
    }
  };

  /** Emits a system event locally and routes it to subscribed functions; it never causes another. */
  emit<K extends SystemKind>(space: string, kind: K, payload: SystemPayload<K>): void {
    const name = SYSTEM_EVENT_NAMES[kind];
    if (this.deps.hasLocalListeners(name)) {
      (this.deps.emitLocal as (n: string, p: unknown) => void)(name, payload);
    }
    const type = SYSTEM_EVENT_TYPES[kind];
    if (this.deps.router.hasSubscribers(space, type)) {
      this.deps.route(systemCloudEvent(type, payload), space);
    }
  }
}
