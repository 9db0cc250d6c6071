/**
 * `event-gateway/etcd`: the etcd v3 store, for gateways that share their configuration through an
 * etcd cluster. Needs the `etcd3` package (a dependency); nothing of it loads until a store opens.
 *
 * @example
 * ```ts
 * import { createGateway } from 'event-gateway';
 * import { EtcdStore } from 'event-gateway/etcd';
 * const gateway = createGateway(new EtcdStore({ hosts: ['http://127.0.0.1:2379'] }));
 * ```
 *
 * @packageDocumentation
 */
export { EtcdStore } from './store/etcd-store';
export type { EtcdStoreOptions } from './store/etcd-store';
