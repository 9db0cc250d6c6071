/**
 * event-gateway: an embeddable Event Gateway for Node.js. Create a gateway over a store with
 * {@link createGateway}, then register functions, event types and subscriptions.
 *
 * @packageDocumentation
 */
export { createGateway, Gateway } from './gateway';
export { ConfigurationApi } from './config/configuration-api';
export type {
  CloseReport,
  CorsUpdateInput,
  GatewayHealth,
  JournalHealth,
  GatewayEvents,
  ListArguments,
  SecretsArgument,
  SpaceArgument,
} from './gateway';
export type { GatewayOptions, ResolvedGatewayOptions } from './options';
export {
  AlreadyExistsError,
  ArchiveUnavailableError,
  BackpressureError,
  CommitUnknownError,
  ConflictError,
  GatewayClosedError,
  GatewayError,
  EventRefusedError,
  FilterBudgetError,
  GatewayNotReadyError,
  IntakeFailedError,
  InvocationError,
  JournalUnavailableError,
  JournalRecordDamagedError,
  NotFoundError,
  RevisionCompactedError,
  StoreUnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from './errors';
export type {
  ConflictReason,
  IntakeErrorDetails,
  GatewayErrorCode,
  GatewayErrorDetails,
  InvocationErrorDetails,
  ResourceKind,
} from './errors';
export type {
  EmitOptions,
  EmitResult,
  ExplainInput,
  Explanation,
  SystemEvents,
} from './delivery/delivery-service';
export type { EventPattern, PatternMiss } from './model/event-pattern';
export type { DeadLetter, DeliveryOutcome } from './delivery/dispatcher';
export type { InvocationContext, Provider } from './delivery/provider';
export { HttpProvider } from './delivery/providers/http-provider';
export type { HttpProviderOptions } from './delivery/providers/http-provider';
export { LocalProvider } from './delivery/providers/local-provider';
export type { SqsResult } from './delivery/providers/aws/sqs-provider';
export type { KinesisResult } from './delivery/providers/aws/kinesis-provider';
export type { FirehoseResult } from './delivery/providers/aws/firehose-provider';
export type { RetryOptions, RetryPolicy } from './model/retry-options';
export { DEFAULT_RETRY } from './model/retry-options';
export type { CloudEvent } from './events/cloudevent';
export { parseCloudEvent } from './events/cloudevent';
export { SYSTEM_EVENT_TYPES } from './model/system-event-types';
export type { SystemEventType } from './model/system-event-types';
export type { AttemptObserver, MetricsSnapshot } from './metrics/gateway-metrics';
export type { FunctionMetrics } from './metrics/function-counters';
export type { HistogramSnapshot } from './metrics/histogram';
export { registerPrometheusMetrics } from './metrics/prometheus';
export type { MetricsSource, PrometheusOptions, PrometheusRegistry } from './metrics/prometheus';
export type {
  AcceptedContext,
  ArchiveDroppedReport,
  DeliveredEvent,
  IntakeContext,
  IntakePlugin,
  IntakeVerdict,
  IntakeVia,
  PluginHost,
} from './intake/intake-plugin';
export type { PluginMetrics } from './metrics/plugin-metrics';
export type { ArchivedEvent, ArchiveQuery, ArchiveSource } from './intake/archive-source';
export type { ReplayOptions, ReplayProgress } from './intake/replay';
export { S3Archive } from './sinks/s3-archive';
export type { S3ArchiveOptions, S3Like } from './sinks/s3-archive';
export type { ArchiveSinkOptions } from './sinks/archive-sink';
export { KafkaArchive } from './sinks/kafka-archive';
export type { KafkaArchiveOptions } from './sinks/kafka-archive';
export { LocalJournal } from './journal/local-journal';
export type { LocalJournalOptions } from './journal/local-journal';
export { KafkaJournal } from './journal/kafka-journal';
export type { KafkaJournalOptions } from './journal/kafka-journal';
export type { Journal, JournalEntry, JournalSink, JournalSize } from './journal/journal';
export type { DamagedRecord } from './journal/damaged-records';
export type { WaitingFunction } from './journal/waiting-deliveries';
export { DELIVERY_ID, REPLAY_ID } from './events/gateway-extensions';
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
export { SECRET_MASK } from './model/function';
export type {
  FunctionInput,
  FunctionRecord,
  FunctionType,
  LocalHandler,
  LocalHandlerContext,
  ProviderValidator,
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
export { EventsApi } from './http/events-api';
export type { EventsGateway, SyncRoute } from './http/events-gateway';
export { OutboundPolicy, redactUrl } from './model/outbound-policy';
export type { OutboundCheck, OutboundOptions } from './model/outbound-policy';
export {
  OutboundPolicies,
  type FunctionWriter,
  type TenantOutboundOptions,
} from './model/outbound-policies';
export { ProtectedEndpoints } from './model/protected-endpoints';
export type { AwsOptions } from './delivery/providers/aws/aws-clients';
export type { WriteOptions as FunctionWriteOptions } from './config/function-rules';
export type {
  EventsApiOptions,
  EventsRequest,
  EventsResponse,
  RequestHeaders,
} from './http/http-types';
export type { HttpRequestData } from './http/http-request-event';
export type { SyncFunctionResponse } from './http/sync-response';
export { createEventsHandler, createConfigHandler } from './adapters/node-http';
export { ConfigHttpApi } from './http/config-http-api';
export type { ConfigApiOptions, ConfigGateway } from './http/config-http-api';
export type { AccessOptions, AccessScope, ApiKey } from './http/access-control';
export { expressMiddleware, expressConfigMiddleware } from './adapters/express';
export type { ExpressLikeRequest, ExpressMiddleware } from './adapters/express';
export { koaMiddleware, koaConfigMiddleware } from './adapters/koa';
export type { KoaLikeContext, KoaMiddleware } from './adapters/koa';
export { EtcdStore } from './store/etcd-store';
export type { EtcdStoreOptions } from './store/etcd-store';
export { startEtcd, freePort } from './store/start-etcd';
export type { RunningEtcd, StartEtcdOptions } from './store/start-etcd';
export { ZooKeeperStore } from './store/zookeeper-store';
export type { ZooKeeperStoreOptions } from './store/zookeeper-store';
export type { LogStoreOptions } from './store/log-backed-store';
export { startZooKeeper } from './store/start-zookeeper';
export type {
  RunningZooKeeper,
  StartZooKeeperOptions,
  ZooKeeperMember,
} from './store/start-zookeeper';
export { startConsul } from './store/start-consul';
export type { RunningConsul, StartConsulOptions } from './store/start-consul';
export { ConsulStore } from './store/consul-store';
export type { ConsulStoreOptions } from './store/consul-store';
