import type { Store } from '../store/store';

const STORE_METHODS = ['get', 'list', 'put', 'delete', 'txn', 'watch', 'close'] as const;

/** Refuses anything that is not a store, options passed first above all (it would wait forever). */
export function checkStore(store: unknown): asserts store is Store {
  const missing =
    typeof store === 'object' || typeof store === 'function'
      ? STORE_METHODS.filter((m) => typeof (store as Record<string, unknown>)[m] !== 'function')
      : STORE_METHODS;
  if (missing.length === 0) return;
  const looksLikeOptions =
    typeof store === 'object' &&
    Object.keys(store as object).some((key) =>
      [
        'retry',
        'space',
        'timeout',
        'concurrency',
        'prefix',
        'providers',
        'queueSize',
        'onDeadLetter',
      ].includes(key),
    );
  throw new TypeError(
    `createGateway(store, options): the first argument must be a Store (a MemoryStore, an EtcdStore, or an object with ${STORE_METHODS.join(', ')}); ` +
      (looksLikeOptions
        ? 'it looks like options: pass them second, as createGateway(undefined, options) or createGateway(new MemoryStore(), options).'
        : `this one lacks ${missing.join(', ')}.`),
  );
}
