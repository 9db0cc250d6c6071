/**
 * A W3C trace context as it travels between processes: the `traceparent` and `tracestate`
 * HTTP headers, or the CloudEvents distributed-tracing extension attributes of the same names.
 */
export interface TraceCarrier {
  readonly traceparent?: unknown;
  readonly tracestate?: unknown;
}

/** A `traceparent` read: the IDs and flags of the span it names. */
export interface ParsedTraceparent {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

/** Version 00 (and any later version's first four fields): `00-<trace id>-<span id>-<flags>`. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';
/** Longer is not a traceparent anyone sent in good faith (version 00 is 55 characters). */
const MAX_TRACEPARENT = 512;

/**
 * Reads a `traceparent` as the W3C Trace Context spec says: undefined for anything that is not
 * one (a wrong shape, version `ff`, an all-zero ID, extra fields on version 00). A caller's bad
 * header starts a new trace; it never fails the event.
 * @example
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
 * // { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 }
 * ```
 */
export function parseTraceparent(value: unknown): ParsedTraceparent | undefined {
  if (typeof value !== 'string' || value.length > MAX_TRACEPARENT) return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) };
}

/**
 * The `traceparent` (version 00) of a span.
 * @example
 * ```ts
 * formatTraceparent({ traceId, spanId, traceFlags: 1 }); // '00-<traceId>-<spanId>-01'
 * ```
 */
export function formatTraceparent(span: ParsedTraceparent): string {
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** Longest `tracestate` kept (the spec lets a vendor truncate past 512 characters). */
const MAX_TRACESTATE = 512;

/**
 * A carrier's `tracestate` as one string: several header lines are joined (the spec says they
 * combine), and anything else (too long, not text) is left out.
 * @example
 * ```ts
 * tracestateOf({ tracestate: ['a=1', 'b=2'] }); // 'a=1,b=2'
 * ```
 */
export function tracestateOf(carrier: TraceCarrier): string | undefined {
  const value = carrier.tracestate;
  const text =
    typeof value === 'string'
      ? value
      : Array.isArray(value) && value.every((line) => typeof line === 'string')
        ? value.join(',')
        : undefined;
  return text && text.length <= MAX_TRACESTATE ? text : undefined;
}
