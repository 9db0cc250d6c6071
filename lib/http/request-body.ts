import { invalidEvent } from '../model/cloud-event';

/** A request body: raw bytes, or what a body parser made of them. */
export interface RequestBody {
  readonly raw?: Buffer;
  readonly parsed?: unknown;
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | string[] | undefined): string {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return (value ?? '').split(';')[0].trim().toLowerCase();
}

/** True for `application/json` and `*+json` media types. */
export function isJsonType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

/** True for media types whose bodies are text. */
export function isTextType(type: string): boolean {
  return (
    type.startsWith('text/') ||
    isJsonType(type) ||
    type === 'application/x-www-form-urlencoded' ||
    type === 'application/xml' ||
    type.endsWith('+xml')
  );
}

/** The body as text, whether raw or already parsed by a framework. */
export function bodyText(body: RequestBody): string {
  if (body.raw) return body.raw.toString('utf8');
  const parsed = body.parsed;
  if (parsed === undefined) return '';
  if (typeof parsed === 'string') return parsed;
  if (Buffer.isBuffer(parsed)) return parsed.toString('utf8');
  return JSON.stringify(parsed);
}

/** The body as JSON: parsed now, or as a JSON body parser left it. Throws a 400-worthy error. */
export function bodyJson(body: RequestBody): unknown {
  if (
    body.parsed !== undefined &&
    typeof body.parsed !== 'string' &&
    !Buffer.isBuffer(body.parsed)
  ) {
    return body.parsed;
  }
  const text = bodyText(body);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidEvent(`the body is not valid JSON (${(error as Error).message}).`);
  }
}

/**
 * The body as event data, by media type: JSON parsed (raw text kept if it does not parse), text
 * as a string, anything else as base64 (`binary: true`).
 */
export function bodyData(body: RequestBody, type: string): { data: unknown; binary: boolean } {
  if (body.raw === undefined) {
    const parsed = body.parsed;
    if (Buffer.isBuffer(parsed)) return bodyData({ raw: parsed }, type);
    return { data: parsed, binary: false };
  }
  if (body.raw.length === 0) return { data: undefined, binary: false };
  if (isJsonType(type)) {
    const text = body.raw.toString('utf8');
    try {
      return { data: JSON.parse(text), binary: false };
    } catch {
      return { data: text, binary: false };
    }
  }
  if (isTextType(type) || type === '') return { data: body.raw.toString('utf8'), binary: false };
  return { data: body.raw.toString('base64'), binary: true };
}
