/**
 * `event-gateway/testing`: the store contract suite the project runs against every store it
 * ships, for writers of their own stores (see README, "Writing a store").
 *
 * @packageDocumentation
 */
export { describeStoreContract, waitUntil } from './store-contract';
export type { StoreContractOptions, StoreHarness, TestRunner } from './store-contract';
export { collectWatch } from './collect-watch';
export type { CollectedWatch, FlatChange } from './collect-watch';
