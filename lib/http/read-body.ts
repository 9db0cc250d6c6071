import type { Readable } from 'node:stream';
import { headerValue } from './headers';
import type { EventsRequest } from './http-types';
import type { RequestBody } from './request-body';

/** The body is larger than allowed. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body larger than ${limit} bytes.`);
  }
}

/**
 * Reads a request body up to `limit` bytes. Past the limit it stops collecting, drains the rest
 * (so that the connection can still carry the 413 answer) and rejects with BodyTooLargeError.
 */
export function readBody(
  stream: Readable,
  limit: number,
  declaredLength?: number,
): Promise<Buffer> {
  if (declaredLength !== undefined && declaredLength > limit) {
    stream.resume();
    return Promise.reject(new BodyTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    stream.on('data', (chunk: Buffer | string) => {
      if (tooLarge) return;
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buffer.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(buffer);
    });
    stream.on('end', () => {
      if (!tooLarge) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    stream.on('error', reject);
  });
}

/**
 * A request's body, at most `limit` bytes: read from its stream, or taken from what a body
 * parser left (raw bytes and strings are measured against the limit too).
 */
export async function requestBody(request: EventsRequest, limit: number): Promise<RequestBody> {
  const length = Number(headerValue(request.headers, 'content-length'));
  if (request.stream && !request.stream.readableEnded && request.parsedBody === undefined) {
    return {
      raw: await readBody(request.stream, limit, Number.isFinite(length) ? length : undefined),
    };
  }
  const parsed = request.parsedBody;
  if (parsed === undefined) return { raw: Buffer.alloc(0) };
  if (Buffer.isBuffer(parsed)) {
    if (parsed.length > limit) throw new BodyTooLargeError(limit);
    return { raw: parsed };
  }
  if (typeof parsed === 'string') {
    if (Buffer.byteLength(parsed) > limit) throw new BodyTooLargeError(limit);
    return { raw: Buffer.from(parsed) };
  }
  // A body parser's object: measured as the JSON it came from (near enough). One that cannot be
  // serialised (a host's own value, cyclic) is left to the handler's checks.
  let size = 0;
  try {
    size = Buffer.byteLength(JSON.stringify(parsed) ?? '');
  } catch {
    size = 0;
  }
  if (size > limit) throw new BodyTooLargeError(limit);
  return { parsed };
}
