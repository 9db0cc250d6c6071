/**
 * `event-gateway/dev`: launchers that start a throwaway etcd, ZooKeeper or Consul server from a
 * binary on the PATH, for development and tests. Not for production.
 *
 * @example
 * ```ts
 * import { startEtcd } from 'event-gateway/dev';
 * import { EtcdStore } from 'event-gateway/etcd';
 * const etcd = await startEtcd();
 * const store = new EtcdStore({ hosts: etcd.endpoints });
 * // ...
 * await etcd.stop();
 * ```
 *
 * @packageDocumentation
 */
export { startEtcd, freePort } from './store/start-etcd';
export type { RunningEtcd, StartEtcdOptions } from './store/start-etcd';
export { startZooKeeper } from './store/start-zookeeper';
export type {
  RunningZooKeeper,
  StartZooKeeperOptions,
  ZooKeeperMember,
} from './store/start-zookeeper';
export { startConsul } from './store/start-consul';
export type { RunningConsul, StartConsulOptions } from './store/start-consul';
