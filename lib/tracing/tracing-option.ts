/**
 * A tracer provider, as `@opentelemetry/api` defines one (only `getTracer` is used): the SDK's
 * `NodeTracerProvider` or `BasicTracerProvider`, say. Declared here so that the gateway's types
 * do not need `@opentelemetry/api` installed.
 * @example
 * ```ts
 * const tracerProvider: TracerProviderLike = new NodeTracerProvider({ spanProcessors });
 * ```
 */
export interface TracerProviderLike {
  /** The tracer of an instrumentation scope (the gateway asks for `event-gateway`). */
  getTracer(name: string, version?: string): unknown;
}

/**
 * Whether and how the gateway traces events with OpenTelemetry (the `tracing` option of
 * `createGateway`): `true` or `{ tracerProvider }` turns it on (through the optional peer
 * dependency `@opentelemetry/api`, which must then be installed), `false` off. Left out: on when
 * a global tracer provider is registered (an OpenTelemetry SDK started before `createGateway`),
 * else off, and then `@opentelemetry/api` is not even loaded.
 * @default on when a global tracer provider is registered
 * @example
 * ```ts
 * createGateway(store, { tracing: { tracerProvider: provider } });
 * ```
 */
export type TracingOption =
  | boolean
  | {
      /** The provider of the gateway's tracer. @default the global tracer provider */
      readonly tracerProvider?: TracerProviderLike;
    };
