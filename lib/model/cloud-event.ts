import { ValidationError } from '../errors';

/**
 * A CloudEvents 1.0 event, the gateway's native format. Extension attributes (lower-case
 * letters and digits) sit beside the context attributes.
 */
export interface CloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  readonly subject?: string;
  readonly time?: string;
  readonly data?: unknown;
  /** Binary data, base64-encoded (exclusive with `data`). */
  readonly data_base64?: string;
  /** Extension attributes. */
  readonly [extension: string]: unknown;
}

/** `CloudEvent doesn't validate: <detail>`, Event Gateway 0.9's message. */
export function invalidEvent(detail: string): ValidationError {
  return new ValidationError(`CloudEvent doesn't validate: ${detail}`, { resource: 'event' });
}
