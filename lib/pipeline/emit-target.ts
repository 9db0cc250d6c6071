import { ValidationError } from '../errors';
import { isValidSpace } from '../model/checks';
import { showValue } from '../model/describe-error';
import { canonicalPath, HTTP_METHODS } from '../model/paths';

/** Where an event is routed: its space, and the method and path async subscriptions match. */
export interface EmitTarget {
  readonly space: string;
  readonly method: string;
  readonly path: string;
}

/**
 * The `space`, `method` and `path` options of `emit` or `explain`, checked and defaulted.
 * `defaults` (the gateway's space, `POST`, `/`) is returned as is when no option is given: most
 * emits name none, and then nothing is allocated.
 */
export function emitTarget(
  options: { space?: string; method?: string; path?: string },
  defaults: EmitTarget,
  what: string,
): EmitTarget {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(`${what}: options must be an object.`);
  }
  if (options.space === undefined && options.method === undefined && options.path === undefined) {
    return defaults;
  }
  let method = 'POST';
  if (options.method !== undefined) {
    method = typeof options.method === 'string' ? options.method.toUpperCase() : '';
    if (!(HTTP_METHODS as readonly string[]).includes(method)) {
      throw new ValidationError(`${what}: "method" must be one of ${HTTP_METHODS.join(', ')}.`);
    }
  }
  const path =
    options.path !== undefined && options.path !== '/' ? canonicalPath(options.path) : '/';
  if (options.space !== undefined && !isValidSpace(options.space)) {
    throw new ValidationError(`${what}: "space" ${showValue(options.space)} is not a valid space.`);
  }
  return { space: options.space ?? defaults.space, method, path };
}

/** Where an event goes when its caller names nothing: the gateway's space, `POST`, `/`. */
export function defaultTarget(space: string): EmitTarget {
  return Object.freeze({ space, method: 'POST', path: '/' });
}
