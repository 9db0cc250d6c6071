import { requireOptionalPeer } from '../model/optional-peer';

/** `@opentelemetry/api`, the optional peer dependency tracing goes through. */
export type OtelApi = typeof import('@opentelemetry/api');

/**
 * Where `@opentelemetry/api` (major version 1) keeps what was registered globally: a tracer
 * provider is there (under `trace`) once an SDK registered one. Read without loading the API, so
 * that a gateway in a process without tracing never loads it.
 */
const GLOBAL_KEY = Symbol.for('opentelemetry.js.api.1');

/**
 * True when some copy of `@opentelemetry/api` 1.x holds a registered global tracer provider.
 * @example
 * ```ts
 * if (globalTracerRegistered()) api = loadOtelApi('"tracing"');
 * ```
 */
export function globalTracerRegistered(): boolean {
  const registered = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[GLOBAL_KEY];
  return registered?.trace !== undefined;
}

let api: OtelApi | undefined;

/**
 * Loads `@opentelemetry/api` at first need (never at import: a gateway without tracing does not
 * pay for it), or throws a PeerMissingError that says to install it. `what` names the option.
 * @example
 * ```ts
 * const { trace } = loadOtelApi('"tracing"');
 * ```
 */
export function loadOtelApi(what: string): OtelApi {
  if (api) return api;
  api = requireOptionalPeer<OtelApi>('@opentelemetry/api', {
    feature: `createGateway: option ${what}`,
    install: '@opentelemetry/api@1',
  });
  return api;
}
