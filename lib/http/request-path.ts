/** A request URL, parsed, with its path relative to where the API is mounted. */
export type RequestPath =
  | { readonly url: URL; readonly path: string }
  | { readonly status: 400 | 404; readonly message: string };

/** Parses a request's URL and strips `basePath` (`''` for none) from its path. */
export function requestPath(rawUrl: unknown, basePath: string): RequestPath {
  let url: URL;
  try {
    const raw = String(rawUrl);
    // Appended, not resolved: resolving `//x/v1/...` would read `x` as a host and route the rest.
    url = raw.startsWith('/') ? new URL('http://gateway' + raw) : new URL(raw, 'http://gateway');
  } catch {
    return { status: 400, message: 'Invalid request URL.' };
  }
  const path = url.pathname;
  if (!basePath) return { url, path };
  if (path !== basePath && !path.startsWith(basePath + '/')) {
    return { status: 404, message: `Not found: this API is under ${basePath}.` };
  }
  return { url, path: path.slice(basePath.length) || '/' };
}

/**
 * A path segment, percent-decoded, or null when it does not decode (a lone `%`).
 * @example
 * ```ts
 * safeDecode('order%2Fplaced'); // 'order/placed'
 * safeDecode('%E0%A4%A'); // null
 * ```
 */
export function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
