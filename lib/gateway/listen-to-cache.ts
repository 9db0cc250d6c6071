import { changeWithoutSecrets } from '../cache/catalog';
import type { ConfigurationApi } from '../config/configuration-api';
import type { IsolatedEmitter } from '../events/isolated-emitter';
import type { Pipeline } from '../pipeline/pipeline';
import type { Router } from '../router/router';
import type { GatewayConnections } from './gateway-connections';
import type { GatewayEvents } from './gateway-types';
import type { ListenedEvents } from './listened-events';

/** The parts of a gateway its configuration cache keeps in step. */
export interface CacheFollowers {
  readonly config: ConfigurationApi;
  readonly router: Router;
  readonly pipeline: Pipeline;
  /** Its connections (none with `connections: false`). */
  readonly connections: GatewayConnections | undefined;
  /** The gateway's events: `config.invalid`, `config.changed`, `store.error`, `store.resync`. */
  readonly events: IsolatedEmitter<GatewayEvents>;
  readonly listened: ListenedEvents;
}

/**
 * Follows a gateway's configuration cache: each batch of changes goes to the catalog, then to
 * what reads it (the router, the handlers bound here, deliveries waiting for a function, the
 * connections), and is raised as `config.changed` (secrets masked); what the catalog cannot use
 * as `config.invalid`; the cache's store errors and resyncs as `store.error` and `store.resync`.
 * @example
 * ```ts
 * listenToCache({ config, router, pipeline, connections, events, listened });
 * config.cache.start();
 * ```
 */
export function listenToCache(followers: CacheFollowers): void {
  const { config, router, pipeline, connections, events, listened } = followers;
  config.cache.on('changes', (changes, revision) => {
    const { applied, invalid } = config.catalog.apply(changes);
    router.apply(applied);
    for (const change of applied) {
      config.unbindStaleHandler(change);
      if (change.resource === 'function' && change.record) {
        pipeline.functionAvailable(change.space, change.id);
      }
    }
    connections?.apply(applied);
    for (const item of invalid) events.emit('config.invalid', item);
    if (applied.length > 0 && listened.has('config.changed')) {
      events.emit('config.changed', applied.map(changeWithoutSecrets), revision);
    }
  });
  config.cache.on('error', (error) => events.emit('store.error', error));
  config.cache.on('resync', (reason, repaired) => events.emit('store.resync', reason, repaired));
}
