import { ConfigCache, type ConfigCacheOptions, type Store } from '../../lib';

/**
 * Started caches over `prefix` for one describe block, closed after each test: call in the block,
 * then `make(store, options)` in its tests (anti-entropy off unless asked for).
 */
export function startedCaches(
  prefix: string,
): (store: Store, options?: ConfigCacheOptions) => ConfigCache {
  let caches: ConfigCache[] = [];
  afterEach(() => {
    for (const cache of caches) cache.close();
    caches = [];
  });
  return (store, options = {}) => {
    const cache = new ConfigCache(store, prefix, { resyncInterval: 0, ...options });
    caches.push(cache);
    cache.start();
    return cache;
  };
}
