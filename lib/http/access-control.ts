import { createHash, timingSafeEqual } from 'node:crypto';
import { describeError } from '../model/describe-error';
import { headerValue } from './headers';
import type {
  AccessOptions,
  AccessScope,
  ApiKey,
  EventsRequest,
  EventsResponse,
} from './http-types';

// Defined with the request types (which the options name): re-exported for the API's users.
export type { AccessOptions, AccessScope, ApiKey } from './http-types';

/** The outcome of a check: the key that passed (if keys are on), or the refusal to send. */
export type AccessResult = { readonly key?: ApiKey } | { readonly refused: EventsResponse };

/**
 * The space of a request whose answer spans every space and cannot be cut to a key's (metrics):
 * only a key for `'*'` passes.
 */
export const EVERY_SPACE: unique symbol = Symbol('every space');

const HASH = /^[0-9a-f]{64}$/;
const SCOPES: readonly AccessScope[] = ['read', 'write', 'emit'];

function refusal(status: 401 | 403, message: string): { refused: EventsResponse } {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  return { refused: { status, headers, body: JSON.stringify({ errors: [{ message }] }) } };
}

/** Checks API keys and the `authorize` hook for the Events and Configuration APIs. */
export class AccessControl {
  private readonly keys: { key: ApiKey; digest: Buffer }[] | undefined;

  constructor(
    private readonly options: AccessOptions,
    private readonly reportError: (error: Error) => void,
  ) {
    if (options.apiKeys !== undefined) {
      if (!Array.isArray(options.apiKeys)) throw new TypeError('"apiKeys" must be an array.');
      this.keys = options.apiKeys.map((key, index) => {
        const where = `"apiKeys[${index}]"`;
        if (typeof key?.hash !== 'string' || !HASH.test(key.hash.toLowerCase())) {
          throw new TypeError(`${where}: "hash" must be the key's SHA-256 in hex (64 characters).`);
        }
        if (key.spaces !== '*' && !(Array.isArray(key.spaces) && key.spaces.length > 0)) {
          throw new TypeError(`${where}: "spaces" must be '*' or a non-empty list of spaces.`);
        }
        if (
          !Array.isArray(key.scopes) ||
          !key.scopes.every((s: AccessScope) => SCOPES.includes(s))
        ) {
          throw new TypeError(`${where}: "scopes" must list 'read', 'write' or 'emit'.`);
        }
        // A copy: changing the caller's objects later changes nothing here.
        const copy: ApiKey = Object.freeze({
          hash: key.hash,
          spaces: key.spaces === '*' ? '*' : Object.freeze([...key.spaces]),
          scopes: Object.freeze([...key.scopes]),
          ...(key.name !== undefined ? { name: String(key.name) } : {}),
        });
        return { key: copy, digest: Buffer.from(key.hash.toLowerCase(), 'hex') };
      });
    }
    if (options.authorize !== undefined && typeof options.authorize !== 'function') {
      throw new TypeError('"authorize" must be a function.');
    }
  }

  /** True when requests are checked at all. */
  get enabled(): boolean {
    return this.keys !== undefined || this.options.authorize !== undefined;
  }

  /**
   * Whether a key may act in a space: any space when `space` is undefined (what it reaches is
   * filtered afterwards, as `GET /v1/spaces` does), every space at once for {@link EVERY_SPACE}
   * (what cannot be filtered, such as metrics naming every space's functions).
   */
  static allows(
    key: ApiKey,
    space: string | typeof EVERY_SPACE | undefined,
    scope: AccessScope,
  ): boolean {
    if (!key.scopes.includes(scope)) return false;
    if (key.spaces === '*' || space === undefined) return true;
    return space !== EVERY_SPACE && key.spaces.includes(space);
  }

  async check(
    request: EventsRequest,
    space: string | typeof EVERY_SPACE | undefined,
    scope: AccessScope,
  ): Promise<AccessResult> {
    let key: ApiKey | undefined;
    if (this.keys) {
      const presented = presentedKey(request);
      if (presented === undefined) return refusal(401, 'An API key is required.');
      key = this.match(presented);
      if (!key) return refusal(401, 'The API key is not valid.');
      if (!AccessControl.allows(key, space, scope)) {
        const what =
          space === undefined
            ? scope
            : space === EVERY_SPACE
              ? `${scope} what spans every space`
              : `${scope} in space "${space}"`;
        return refusal(403, `The API key${key.name ? ` "${key.name}"` : ''} may not ${what}.`);
      }
    }
    if (this.options.authorize && !(await this.hookAllows(request, space, scope))) {
      return refusal(403, 'The request is not authorized.');
    }
    return { key };
  }

  /**
   * The spaces of `all` a request may read (every one without keys), or the refusal of a request
   * that may read none: what `GET /v1/spaces` and the dashboard list.
   * @example
   * ```ts
   * const readable = await access.readableSpaces(request, () => gateway.listSpaces());
   * if ('refused' in readable) return readable.refused;
   * ```
   */
  async readableSpaces(
    request: EventsRequest,
    all: () => readonly string[],
  ): Promise<{ readonly spaces: string[] } | { readonly refused: EventsResponse }> {
    const allowed = await this.check(request, undefined, 'read');
    if ('refused' in allowed) return allowed;
    const key = allowed.key;
    const spaces = all().filter((space) => !key || AccessControl.allows(key, space, 'read'));
    if (!this.options.authorize) return { spaces };
    // The hook allowed a listing: it says which spaces are in it, one by one.
    const listed: string[] = [];
    for (const space of spaces) {
      if (await this.hookAllows(request, space, 'read')) listed.push(space);
    }
    return { spaces: listed };
  }

  /**
   * The `authorize` hook's answer, a throw reported and taken as a refusal. What spans every
   * space is asked as `'*'` (never a space's name): as `undefined`, it would read as a listing,
   * which a hook lets any caller make.
   */
  private async hookAllows(
    request: EventsRequest,
    space: string | typeof EVERY_SPACE | undefined,
    scope: AccessScope,
  ): Promise<boolean> {
    try {
      const access = { space: space === EVERY_SPACE ? '*' : space, scope };
      return (await this.options.authorize?.(request, access)) === true;
    } catch (error) {
      this.reportError(
        new Error(`The authorize hook threw: ${describeError(error)}`, { cause: error }),
      );
      return false;
    }
  }

  /**
   * The request's headers without the ones that carried its API key (`X-Api-Key`, a Bearer
   * `Authorization`), when keys are configured: the key is the gateway's credential, and an
   * `http.request` event would otherwise hand it to every function subscribed, tenants' included.
   */
  withoutKeyHeaders(headers: EventsRequest['headers']): EventsRequest['headers'] {
    if (!this.keys) return headers;
    const out: Record<string, string | string[] | undefined> = {};
    for (const [name, value] of Object.entries(headers)) {
      const lower = name.toLowerCase();
      if (lower === 'x-api-key') continue;
      if (lower === 'authorization' && /^Bearer\s/i.test(String(value))) continue;
      out[name] = value;
    }
    return out;
  }

  /** The configured key whose hash is the presented key's, compared in constant time. */
  private match(presented: string): ApiKey | undefined {
    const digest = createHash('sha256').update(presented).digest();
    let found: ApiKey | undefined;
    // Every key is compared, so the time does not tell which one (or whether one) matched.
    for (const { key, digest: expected } of this.keys ?? []) {
      if (timingSafeEqual(digest, expected) && !found) found = key;
    }
    return found;
  }
}

/** The key a request carries: `Authorization: Bearer <key>` or `X-Api-Key: <key>`. */
function presentedKey(request: EventsRequest): string | undefined {
  const authorization = headerValue(request.headers, 'authorization');
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  const key = bearer ?? headerValue(request.headers, 'x-api-key')?.trim();
  return key ? key : undefined;
}
