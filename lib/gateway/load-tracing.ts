import type { GatewayTracing } from '../tracing/gateway-tracing';
import { globalTracerRegistered } from '../tracing/otel-api';
import type { TracingOption } from '../tracing/tracing-option';

/**
 * A gateway's tracing for its `tracing` option (see {@link GatewayTracing.from}), or undefined
 * when it is off. Off by the option, or left out with no global tracer provider registered, is
 * decided here, before the tracing code (dist/lazy.js, see scripts/build.js) is loaded: an
 * untraced gateway never loads it.
 * @example
 * ```ts
 * const tracing = loadTracing(options.tracing); // undefined: nothing loaded
 * ```
 */
export function loadTracing(option: TracingOption | undefined): GatewayTracing | undefined {
  if (option === false) return undefined;
  if ((option === undefined || option === null) && !globalTracerRegistered()) return undefined;
  type Tracing = typeof import('../tracing/gateway-tracing');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
  const { GatewayTracing } = require('../tracing/gateway-tracing') as Tracing;
  return GatewayTracing.from(option);
}
