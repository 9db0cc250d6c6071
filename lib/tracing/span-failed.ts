import type { Span } from '@opentelemetry/api';

/**
 * Ends a span as failed: status ERROR with the error's message (cut at 500 characters), and
 * `error.type` its stable `code` (a GatewayError's) or its name.
 * @example
 * ```ts
 * spanFailed(span, new EventRefusedError('not taken'));
 * ```
 */
export function spanFailed(span: Span, error: unknown): void {
  let type = 'Error';
  let message = '';
  try {
    const { code, name, message: text } = (error ?? {}) as Record<string, unknown>;
    type = typeof code === 'string' ? code : typeof name === 'string' ? name : type;
    message = typeof text === 'string' ? text.slice(0, 500) : String(error).slice(0, 500);
  } catch {
    // A hostile thrown value (a getter that throws) says nothing more.
  }
  span.setAttribute('error.type', type);
  // SpanStatusCode.ERROR, without loading the API's enum here.
  span.setStatus({ code: 2, message });
  span.end();
}
