/**
 * `event-gateway/consul`: the Consul KV store. Needs the optional peer `consul`.
 *
 * @example
 * ```ts
 * import { createGateway } from 'event-gateway';
 * import { ConsulStore } from 'event-gateway/consul';
 * const gateway = createGateway(new ConsulStore({ url: 'http://127.0.0.1:8500' }));
 * ```
 *
 * @packageDocumentation
 */
export { ConsulStore } from './store/consul-store';
export type { ConsulStoreOptions } from './store/consul-store';
export type { LogStoreOptions } from './store/log-backed-store';
