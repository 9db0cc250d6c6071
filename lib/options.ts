import { ValidationError } from './errors';
import { DEFAULT_ROOT } from './model/key-layout';

/** Options of {@link createGateway}. Every field is optional. */
export interface GatewayOptions {
  /**
   * The space methods use when their argument names none.
   * @default 'default'
   */
  space?: string;
  /**
   * The root under which configuration keys live in the store. Keep Event Gateway 0.9's default to
   * load a store it wrote.
   * @default '/serverless-event-gateway'
   */
  prefix?: string;
  /**
   * How long a write waits (ms) for this instance's cache to apply it before failing with
   * StoreUnavailableError (the write itself is then committed: the error says so).
   * @default 10000
   */
  consistencyTimeout?: number;
  /**
   * How often (ms) the cache relists the store and repairs any difference (anti-entropy); 0 turns
   * it off.
   * @default 300000
   */
  resyncInterval?: number;
  /**
   * Pairs per page when listing the store.
   * @default 1000
   */
  listPageSize?: number;
  /**
   * How many times a write is planned again when a concurrent write changed what it depends on.
   * @default 10
   */
  maxWriteAttempts?: number;
}

/** {@link GatewayOptions} with every default applied. */
export type ResolvedGatewayOptions = Required<GatewayOptions>;

/** Applies defaults and rejects impossible values with a ValidationError. */
export function resolveOptions(options: GatewayOptions = {}): ResolvedGatewayOptions {
  const resolved: ResolvedGatewayOptions = {
    space: options.space ?? 'default',
    prefix: options.prefix ?? DEFAULT_ROOT,
    consistencyTimeout: options.consistencyTimeout ?? 10_000,
    resyncInterval: options.resyncInterval ?? 300_000,
    listPageSize: options.listPageSize ?? 1000,
    maxWriteAttempts: options.maxWriteAttempts ?? 10,
  };
  for (const name of ['consistencyTimeout', 'listPageSize', 'maxWriteAttempts'] as const) {
    if (!Number.isInteger(resolved[name]) || resolved[name] <= 0) {
      throw new ValidationError(`createGateway: option "${name}" must be a positive integer.`);
    }
  }
  if (!Number.isInteger(resolved.resyncInterval) || resolved.resyncInterval < 0) {
    throw new ValidationError(
      `createGateway: option "resyncInterval" must be 0 or a positive integer.`,
    );
  }
  if (typeof resolved.prefix !== 'string' || !resolved.prefix.startsWith('/')) {
    throw new ValidationError(`createGateway: option "prefix" must be a string starting with "/".`);
  }
  if (typeof resolved.space !== 'string' || !/^[a-zA-Z0-9.\-_]{3,}$/.test(resolved.space)) {
    throw new ValidationError(
      `createGateway: option "space" must match ^[a-zA-Z0-9.\\-_]+$ and be at least 3 characters long.`,
    );
  }
  return resolved;
}
