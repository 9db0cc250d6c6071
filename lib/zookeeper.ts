/**
 * `event-gateway/zookeeper`: the ZooKeeper store. Needs the optional peer `node-zookeeper-client`.
 *
 * @example
 * ```ts
 * import { createGateway } from 'event-gateway';
 * import { ZooKeeperStore } from 'event-gateway/zookeeper';
 * const gateway = createGateway(new ZooKeeperStore({ servers: '127.0.0.1:2181' }));
 * ```
 *
 * @packageDocumentation
 */
export { ZooKeeperStore } from './store/zookeeper-store';
export type { ZooKeeperStoreOptions } from './store/zookeeper-store';
export type { LogStoreOptions } from './store/log-backed-store';
