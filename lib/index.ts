/**
 * event-gateway: an embeddable Event Gateway for Node.js. Create a gateway over a store with
 * {@link createGateway}, then register functions, event types and subscriptions.
 *
 * @packageDocumentation
 */
import type * as aws from './aws';
import type * as consul from './consul';
import type * as dev from './dev';
import type * as etcd from './etcd';
import type * as kafka from './kafka';
import type * as zookeeper from './zookeeper';

export { createGateway, Gateway } from './gateway';
export { ConfigurationApi } from './config/configuration-api';
export type {
  CloseReport,
  GatewayHealth,
  JournalHealth,
  GatewayEvents,
} from './gateway/gateway-types';
export type {
  CorsUpdateInput,
  ListArguments,
  SecretsArgument,
  SpaceArgument,
} from './config/configuration-api';
export type { GatewayOptions, LimitsOptions, ResolvedGatewayOptions } from './options';
export type { TracerProviderLike, TracingOption } from './tracing/tracing-option';
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
  ReplayBusyError,
  ReplayNotConfiguredError,
  HopLimitError,
  IntakeFailedError,
  InvocationError,
  JournalUnavailableError,
  JournalRecordDamagedError,
  LimitExceededError,
  NotFoundError,
  OutboundRefusedError,
  PeerMissingError,
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
  LimitName,
  ResourceKind,
} from './errors';
export type { EmitOptions, EmitResult } from './pipeline/emit-options';
export type { ExplainInput, Explanation } from './pipeline/explanation';
export type { ArchiveDroppedReport, SystemEvents } from './model/system-events';
export type { EventPattern, PatternMiss } from './model/event-pattern';
export type { DeadLetter } from './plugins/dead-letter';
export type { DeliveryOutcome } from './delivery/delivery';
export type { InvocationContext, Provider } from './delivery/provider';
export { HttpProvider } from './delivery/providers/http-provider';
export type { HttpProviderOptions } from './delivery/providers/http-provider';
export { LocalProvider } from './delivery/providers/local-provider';
export type { SqsResult } from './delivery/providers/aws/sqs-provider';
export type { KinesisResult } from './delivery/providers/aws/kinesis-provider';
export type { FirehoseResult } from './delivery/providers/aws/firehose-provider';
export type { RetryOptions, RetryPolicy } from './model/retry-options';
export { DEFAULT_RETRY } from './model/retry-options';
export type { CloudEvent } from './model/cloud-event';
export { parseCloudEvent } from './events/cloudevent';
export { SYSTEM_EVENT_TYPES } from './model/system-events';
export type { SystemEventType } from './model/system-events';
export type { AttemptObserver, MetricsSnapshot } from './metrics/gateway-metrics';
export type { FunctionMetrics } from './metrics/function-counters';
export type { HistogramSnapshot } from './metrics/histogram';
export { registerPrometheusMetrics } from './metrics/prometheus';
export type { MetricsSource, PrometheusOptions, PrometheusRegistry } from './metrics/prometheus';
export type { ConnectionFigures } from './metrics/connection-metrics';
export type {
  AcceptedContext,
  DeliveredEvent,
  IntakeContext,
  IntakePlugin,
  IntakeVerdict,
  IntakeVia,
  PluginHost,
} from './plugins/intake-plugin';
export type { PluginMetrics } from './metrics/plugin-metrics';
export type { ArchivedEvent, ArchiveQuery, ArchiveSource } from './plugins/archive-source';
export type { ReplayOptions, ReplayProgress } from './sinks/replay';
export type { ArchiveSinkOptions } from './sinks/archive-sink';
export { LocalJournal } from './journal/local-journal';
export type { LocalJournalOptions } from './journal/local-journal';
export type {
  Journal,
  JournalEntry,
  JournalSink,
  JournalSize,
  ResumedAttempt,
} from './journal/journal';
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
export { redactUrl, SECRET_MASK } from './model/function-secrets';
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
export type {
  ConnectionInput,
  ConnectionRecord,
  DeadLetterSettings,
  SourceOptions,
  SourceType,
} from './model/connection';
export { SOURCE_TYPES } from './model/connection';
export type { ConnectionsOptions } from './options';
export type { ConnectionLimits } from './config/write-plan';
export type { ConnectionHealth } from './sources/connection-run';
export type { ConnectionRefusedNotice } from './model/system-events';
export { corsId } from './model/cors';
export { HTTP_METHODS } from './model/paths';
export type { HttpMethod } from './model/paths';
export type { Metadata } from './model/checks';
export { DEFAULT_ROOT } from './model/key-layout';
export type { RecordKind } from './model/key-layout';
export { EventsApi } from './http/events-api';
export type { EventsGateway, SyncRoute } from './http/events-gateway';
export { OutboundPolicy } from './model/outbound-policy';
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
export {
  createEventsHandler,
  createConfigHandler,
  createDashboardHandler,
} from './adapters/node-http';
export type { DashboardListener } from './adapters/node-http';
export { Dashboard } from './http/dashboard';
export type { DashboardGateway, DashboardOptions, DashboardResponse } from './http/dashboard';
export { DashboardEvents } from './http/dashboard-events';
export { DashboardReplay } from './http/dashboard-replay';
export type { DashboardReplayLimits, DashboardReplayResult } from './http/dashboard-replay';
export type {
  DashboardEvent,
  DashboardEventSource,
  DashboardEventsOptions,
} from './http/dashboard-events';
export type { FunctionBucket } from './http/function-figures';
export { ConfigHttpApi } from './http/config-http-api';
export type { ConfigApiOptions, ConfigCollection, ConfigGateway } from './http/config-http-api';
export type { AccessOptions, AccessScope, ApiKey } from './http/access-control';
export {
  expressMiddleware,
  expressConfigMiddleware,
  expressDashboardMiddleware,
} from './adapters/express';
export type { ExpressLikeRequest, ExpressMiddleware } from './adapters/express';
export { koaMiddleware, koaConfigMiddleware, koaDashboardMiddleware } from './adapters/koa';
export type { KoaLikeContext, KoaMiddleware } from './adapters/koa';

// Names that moved to subpaths in 0.2. They still work from the root for one minor version, read
// lazily (a getter requires the subpath on first use), so `require('event-gateway')` loads none of
// the stores, journals, archives and launchers it does not use.
const MOVED = {
  etcd: ['EtcdStore'],
  zookeeper: ['ZooKeeperStore'],
  consul: ['ConsulStore'],
  aws: ['S3Archive'],
  kafka: ['KafkaJournal', 'KafkaArchive'],
  dev: ['startEtcd', 'freePort', 'startZooKeeper', 'startConsul'],
} as const;
// Literal paths, so the build sees them (and keeps each a require of that entry's bundle).
/* eslint-disable @typescript-eslint/no-require-imports -- lazy on purpose */
const SUBPATHS: Record<keyof typeof MOVED, () => Record<string, unknown>> = {
  etcd: () => require('./etcd'),
  zookeeper: () => require('./zookeeper'),
  consul: () => require('./consul'),
  aws: () => require('./aws'),
  kafka: () => require('./kafka'),
  dev: () => require('./dev'),
};
/* eslint-enable @typescript-eslint/no-require-imports */
for (const [subpath, names] of Object.entries(MOVED) as [keyof typeof MOVED, readonly string[]][]) {
  for (const name of names) {
    Object.defineProperty(module.exports, name, {
      enumerable: true,
      get: () => SUBPATHS[subpath]()[name],
    });
  }
}

/** @deprecated Import it from `event-gateway/etcd`; the root stops exporting it in 0.3. */
export declare const EtcdStore: typeof etcd.EtcdStore;
/** @deprecated Import it from `event-gateway/etcd`; the root stops exporting it in 0.3. */
export type EtcdStore = etcd.EtcdStore;
/** @deprecated Import it from `event-gateway/etcd`; the root stops exporting it in 0.3. */
export type EtcdStoreOptions = etcd.EtcdStoreOptions;
/** @deprecated Import it from `event-gateway/zookeeper`; the root stops exporting it in 0.3. */
export declare const ZooKeeperStore: typeof zookeeper.ZooKeeperStore;
/** @deprecated Import it from `event-gateway/zookeeper`; the root stops exporting it in 0.3. */
export type ZooKeeperStore = zookeeper.ZooKeeperStore;
/** @deprecated Import it from `event-gateway/zookeeper`; the root stops exporting it in 0.3. */
export type ZooKeeperStoreOptions = zookeeper.ZooKeeperStoreOptions;
/** @deprecated Import it from `event-gateway/zookeeper` (or `/consul`); gone from the root in 0.3. */
export type LogStoreOptions = zookeeper.LogStoreOptions;
/** @deprecated Import it from `event-gateway/consul`; the root stops exporting it in 0.3. */
export declare const ConsulStore: typeof consul.ConsulStore;
/** @deprecated Import it from `event-gateway/consul`; the root stops exporting it in 0.3. */
export type ConsulStore = consul.ConsulStore;
/** @deprecated Import it from `event-gateway/consul`; the root stops exporting it in 0.3. */
export type ConsulStoreOptions = consul.ConsulStoreOptions;
/** @deprecated Import it from `event-gateway/aws`; the root stops exporting it in 0.3. */
export declare const S3Archive: typeof aws.S3Archive;
/** @deprecated Import it from `event-gateway/aws`; the root stops exporting it in 0.3. */
export type S3Archive = aws.S3Archive;
/** @deprecated Import it from `event-gateway/aws`; the root stops exporting it in 0.3. */
export type S3ArchiveOptions = aws.S3ArchiveOptions;
/** @deprecated Import it from `event-gateway/aws`; the root stops exporting it in 0.3. */
export type S3Like = aws.S3Like;
/** @deprecated Import it from `event-gateway/kafka`; the root stops exporting it in 0.3. */
export declare const KafkaJournal: typeof kafka.KafkaJournal;
/** @deprecated Import it from `event-gateway/kafka`; the root stops exporting it in 0.3. */
export type KafkaJournal = kafka.KafkaJournal;
/** @deprecated Import it from `event-gateway/kafka`; the root stops exporting it in 0.3. */
export type KafkaJournalOptions = kafka.KafkaJournalOptions;
/** @deprecated Import it from `event-gateway/kafka`; the root stops exporting it in 0.3. */
export declare const KafkaArchive: typeof kafka.KafkaArchive;
/** @deprecated Import it from `event-gateway/kafka`; the root stops exporting it in 0.3. */
export type KafkaArchive = kafka.KafkaArchive;
/** @deprecated Import it from `event-gateway/kafka`; the root stops exporting it in 0.3. */
export type KafkaArchiveOptions = kafka.KafkaArchiveOptions;
/** @deprecated Import it from `event-gateway/dev`; the root stops exporting it in 0.3. */
export declare const startEtcd: typeof dev.startEtcd;
/** @deprecated Import it from `event-gateway/dev`; the root stops exporting it in 0.3. */
export declare const freePort: typeof dev.freePort;
/** @deprecated Import it from `event-gateway/dev`; the root stops exporting it in 0.3. */
export type RunningEtcd = dev.RunningEtcd;
/** @deprecated Import it from `event-gateway/dev`; the root stops exporting it in 0.3. */
export type StartEtcdOptions = dev.StartEtcdOptions;
/** @deprecated Import it from `event-gateway/dev`; the root stops exporting it in 0.3. */
export declare const startZooKeeper: typeof dev.startZooKeeper;
/** @deprecated Import it from `event-gateway/dev`; the root stops exporting it in 0.3. */
export type RunningZooKeeper = dev.RunningZooKeeper;
/** @deprecated Import it from `event-gateway/dev`; the root stops exporting it in 0.3. */
export type StartZooKeeperOptions = dev.StartZooKeeperOptions;
/** @deprecated Import it from `event-gateway/dev`; the root stops exporting it in 0.3. */
export type ZooKeeperMember = dev.ZooKeeperMember;
/** @deprecated Import it from `event-gateway/dev`; the root stops exporting it in 0.3. */
export declare const startConsul: typeof dev.startConsul;
/** @deprecated Import it from `event-gateway/dev`; the root stops exporting it in 0.3. */
export type RunningConsul = dev.RunningConsul;
/** @deprecated Import it from `event-gateway/dev`; the root stops exporting it in 0.3. */
export type StartConsulOptions = dev.StartConsulOptions;
