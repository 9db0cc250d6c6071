import type { InvocationError } from '../errors';
import type { ArchiveDroppedReport } from '../intake/intake-plugin';
import type { CloudEvent } from '../events/cloudevent';
import { systemCloudEvent } from '../events/system-events';
import { SYSTEM_EVENT_TYPES } from '../model/system-event-types';
import type { Router } from '../router/router';

/** The local names of system events on `gateway.on(...)`, and their payloads. */
export interface SystemEvents {
  'event.received': [{ space: string; event: CloudEvent; path: string; method: string }];
  /** An event refused at intake: looping (past `maxHops`), or by an intake plugin (`plugin`). */
  'event.refused': [
    { space: string; eventId: string; code: string; reason: string; plugin?: string },
  ];
  /** Events an archive dropped (its `whenFull: 'drop'` policy), reported at most once a second. */
  'archive.dropped': [ArchiveDroppedReport];
  'function.invoking': [{ space: string; functionId: string; event: CloudEvent; attempt: number }];
  'function.invoked': [
    {
      space: string;
      functionId: string;
      event: CloudEvent;
      result: unknown;
      attempts: number;
      durationMs: number;
    },
  ];
  'function.invocationFailed': [
    {
      space: string;
      functionId: string;
      event: CloudEvent;
      error: { message: string; code: string };
      reason: string;
      lastStatus?: number;
      attempts: number;
    },
  ];
}

/** The system events, by short name. */
export type SystemKind =
  'received' | 'invoking' | 'invoked' | 'invocationFailed' | 'refused' | 'archiveDropped';
const LOCAL_NAME = {
  received: 'event.received',
  invoking: 'function.invoking',
  invoked: 'function.invoked',
  invocationFailed: 'function.invocationFailed',
  refused: 'event.refused',
  archiveDropped: 'archive.dropped',
} as const;

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
export class SystemEventEmitter {
  constructor(private readonly deps: SystemEventDeps) {}

  /** True when a system event would reach anyone: checked before its payload is even built. */
  wants(space: string, kind: SystemKind): boolean {
    const { router } = this.deps;
    if (!router.hasSystemSubscribers && !this.deps.hasSystemListeners()) return false;
    return (
      this.deps.hasLocalListeners(LOCAL_NAME[kind]) ||
      (router.hasSystemSubscribers && router.hasSubscribers(space, SYSTEM_EVENT_TYPES[kind]))
    );
  }

  /** `function.invoking`, when anyone would hear it. */
  invoking(space: string, functionId: string, event: CloudEvent, attempt: number): void {
    if (this.wants(space, 'invoking')) {
      this.emit(space, 'invoking', { space, functionId, event, attempt });
    }
  }

  /** `function.invoked`, with the function's real result, when anyone would hear it. */
  invoked(
    space: string,
    functionId: string,
    event: CloudEvent,
    result: unknown,
    attempts: number,
    durationMs: number,
  ): void {
    if (this.wants(space, 'invoked')) {
      this.emit(space, 'invoked', { space, functionId, event, result, attempts, durationMs });
    }
  }

  /** `function.invocationFailed`: a delivery failed for good, or a direct call failed. */
  invocationFailed(
    space: string,
    functionId: string,
    event: CloudEvent,
    error: InvocationError,
    reason: string,
    attempts: number,
  ): void {
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
  }

  /** Emits a system event locally and routes it to subscribed functions; it never causes another. */
  emit<K extends SystemKind>(
    space: string,
    kind: K,
    payload: SystemEvents[(typeof LOCAL_NAME)[K]][0],
  ): void {
    const name = LOCAL_NAME[kind];
    if (this.deps.hasLocalListeners(name)) {
      (this.deps.emitLocal as (n: string, p: unknown) => void)(name, payload);
    }
    const type = SYSTEM_EVENT_TYPES[kind];
    if (this.deps.router.hasSubscribers(space, type)) {
      this.deps.route(systemCloudEvent(type, payload), space);
    }
  }
}
