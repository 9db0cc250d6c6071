/**
 * event-gateway: an embeddable Event Gateway for Node.js. Create a gateway over a store with
 * {@link createGateway}, then register functions, event types and subscriptions.
 *
 * @packageDocumentation
 */
export { createGateway, Gateway } from './gateway';
export type { CorsUpdateInput, GatewayEvents, ListArguments, SpaceArgument } from './gateway';
export type { GatewayOptions, ResolvedGatewayOptions } from './options';
export {
  AlreadyExistsError,
  ConflictError,
  GatewayClosedError,
  GatewayError,
  GatewayNotReadyError,
  NotFoundError,
  RevisionCompactedError,
  StoreUnavailableError,
  ValidationError,
} from './errors';
export type { ConflictReason, GatewayErrorCode, GatewayErrorDetails, ResourceKind } from './errors';
export { MemoryStore } from './store/memory-store';
export type { MemoryStoreOptions } from './store/memory-store';
export type {
  Compare,
  KeyValue,
  ListOptions,
  ListResult,
  Operation,
  Store,
  Watch,
  WatchChange,
  WatchEvent,
  WatchListener,
  WriteOptions,
  WriteResult,
} from './store/store';
export { ConfigCache } from './cache/config-cache';
export type { CacheChange, ConfigCacheEvents, ConfigCacheOptions } from './cache/config-cache';
export type { ConfigChange, ConfigRecord, InvalidRecord, RecordsByKind } from './cache/catalog';
export type { EventTypeInput, EventTypeRecord } from './model/event-type';
export { HTTP_REQUEST_EVENT } from './model/event-type';
export type {
  FunctionInput,
  FunctionRecord,
  FunctionType,
  LocalHandler,
  LocalHandlerContext,
} from './model/function';
export type { SubscriptionInput, SubscriptionRecord, SubscriptionType } from './model/subscription';
export type { SubscriptionUpdateInput } from './config/subscription-rules';
export { subscriptionId } from './model/subscription';
export type { CorsInput, CorsRecord } from './model/cors';
export { corsId } from './model/cors';
export { HTTP_METHODS } from './model/paths';
export type { HttpMethod } from './model/paths';
export type { Metadata } from './model/checks';
export { DEFAULT_ROOT } from './model/key-layout';
export type { RecordKind } from './model/key-layout';
