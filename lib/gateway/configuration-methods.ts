import type { ConfigurationApi } from '../config/configuration-api';

/**
 * The configuration API's methods a gateway answers by delegating to the {@link ConfigurationApi}
 * it composes: their signatures and TSDoc are the configuration API's own (one source).
 */
export const CONFIGURATION_METHODS = [
  'listSpaces',
  'createEventType',
  'updateEventType',
  'deleteEventType',
  'getEventType',
  'listEventTypes',
  'registerFunction',
  'updateFunction',
  'deleteFunction',
  'getFunction',
  'listFunctions',
  'bindLocalHandler',
  'subscribe',
  'updateSubscription',
  'unsubscribe',
  'getSubscription',
  'listSubscriptions',
  'createCors',
  'updateCors',
  'deleteCors',
  'getCors',
  'listCors',
  'createConnection',
  'updateConnection',
  'deleteConnection',
  'getConnection',
  'listConnections',
] as const satisfies readonly (keyof ConfigurationApi)[];

/** The methods of {@link CONFIGURATION_METHODS}, as a gateway's type declares them. */
export type ConfigurationMethods = Pick<ConfigurationApi, (typeof CONFIGURATION_METHODS)[number]>;

/**
 * Gives a class's prototype each of {@link CONFIGURATION_METHODS}, calling the same method of the
 * ConfigurationApi its instances hold in `field` (a prototype method, as a class method is: not
 * enumerable, shared by every instance).
 * @example
 * ```ts
 * delegateConfiguration(Gateway.prototype, (gateway) => gateway.config);
 * ```
 */
export function delegateConfiguration<T>(
  prototype: T,
  configOf: (instance: T) => ConfigurationApi,
): void {
  for (const name of CONFIGURATION_METHODS) {
    Object.defineProperty(prototype, name, {
      configurable: true,
      writable: true,
      enumerable: false,
      value(this: T, ...args: unknown[]) {
        const config = configOf(this) as unknown as Record<string, (...a: unknown[]) => unknown>;
        return config[name](...args);
      },
    });
  }
}
