import type { Readable } from 'node:stream';

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
