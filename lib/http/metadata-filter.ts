import type { ResourceKind } from '../errors';
import { validationError } from '../model/checks';

const PREFIX = 'metadata.';
/** Longest filter name echoed back in a refusal. */
const SHOWN_NAME_LENGTH = 100;

/**
 * The `?metadata.<key>=<value>` filters of a list request (Event Gateway 0.9's: every one must
 * match); other parameters are not filters. A filter that cannot be honoured is a 400
 * (ValidationError), never dropped silently: an empty key, a key every object has (`__proto__`,
 * `constructor`, `toString`, ...), or a key given twice.
 *
 * @example
 * ```ts
 * metadataFilter(new URLSearchParams('metadata.team=a&page=2'), 'function'); // { team: 'a' }
 * metadataFilter(new URLSearchParams('metadata.__proto__=x'), 'function'); // throws
 * ```
 */
export function metadataFilter(
  params: URLSearchParams,
  kind: ResourceKind,
): Record<string, string> {
  const filter: Record<string, string> = {};
  for (const [name, value] of params) {
    if (!name.startsWith(PREFIX)) continue;
    const key = name.slice(PREFIX.length);
    const shown = JSON.stringify(name.slice(0, SHOWN_NAME_LENGTH));
    if (key === '' || key in Object.prototype) {
      throw validationError(
        kind,
        `the metadata filter ${shown} is not supported (a key must not be empty or a name every object has, such as "constructor").`,
      );
    }
    if (Object.hasOwn(filter, key)) {
      throw validationError(kind, `the metadata filter ${shown} is given more than once.`);
    }
    filter[key] = value;
  }
  return filter;
}
