import type { Journal } from './journal/journal';
import type { IntakePlugin } from './plugins/intake-plugin';
import type { DeadLetter } from './plugins/dead-letter';
import type { Provider } from './delivery/provider';
import { ValidationError } from './errors';
import { isValidSpace, MAX_TIMER_MS, optionsArgument, positiveOption } from './model/checks';
import { DEFAULT_ROOT } from './model/key-layout';
import type { OutboundPolicy, OutboundOptions } from './model/outbound-policy';
import { OutboundPolicies, type TenantOutboundOptions } from './model/outbound-policies';
import type { AwsOptions } from './delivery/providers/aws/aws-clients';
import type { ConnectionRunnerOptions } from './sources/connection-runner';
import type * as ScheduleGap from './sources/schedule-gap';
import type { ConnectionLimits } from './config/write-plan';
import {
  DEFAULT_CONNECTIONS_PER_SPACE,
  DEFAULT_RECORDS_PER_SPACE,
  DEFAULT_MIN_SCHEDULE_INTERVAL,
} from './config/connection-limits';
import type { TracingOption } from './tracing/tracing-option';
import {
  DEFAULT_RETRY,
  resolveRetry,
  type RetryOptions,
  type RetryPolicy,
} from './model/retry-options';

/** Options of {@link createGateway}. Every field is optional. */
export interface GatewayOptions {
  /**
   * The space methods use when their argument names none.
   * @default 'default'
   */
  space?: string;
  /**
   * The root under which configuration keys live in the store. Keep Event Gateway 0.9's default to
   * load a store it wrote.
   * @default '/serverless-event-gateway'
   */
  prefix?: string;
  /**
   * How long a write waits (ms) for this instance's cache to apply it before failing with
   * CommitUnknownError (the write itself was applied: the error says so; code COMMIT_UNKNOWN,
   * never STORE_UNAVAILABLE, which means nothing was applied).
   * @default 10000
   */
  consistencyTimeout?: number;
  /**
   * How often (ms) the cache relists the store and repairs any difference (anti-entropy); 0 turns
   * it off.
   * @default 200000
   */
  resyncInterval?: number;
  /**
   * Pairs per page when listing the store. Large pages list much faster (etcd counts the rest
   * of the range for every page: 100,000 keys list in ~1.2 s by 10,000 and ~2.5 s by 1,000).
   * @default 10000
   */
  listPageSize?: number;
  /**
   * How many times a write is planned again when a concurrent write changed what it depends on.
   * @default 10
   */
  maxWriteAttempts?: number;
  /**
   * Deliveries that may wait (queued, or between retries) beyond those running. When an event's
   * deliveries do not fit, `emit` rejects with BackpressureError and accepts none.
   * @default 10000
   */
  queueSize?: number;
  /**
   * Deliveries one space may have pending (queued, running, between retries), out of the room
   * every space shares (`queueSize + concurrency`): past it, that space's events are refused with
   * BackpressureError (503) while other spaces' are still taken, so that one tenant's burst, or
   * its functions that never answer, cannot refuse the others' events.
   * @default half of `queueSize + concurrency` while the configuration holds other spaces; the
   * whole room for a gateway of one space
   * @example
   * ```ts
   * createGateway(store, { queueSize: 10_000, spaceQueueSize: 1_000 }); // ten busy tenants at least
   * ```
   */
  spaceQueueSize?: number;
  /**
   * Deliveries of one space running at once, out of `concurrency`: a tenant's functions that
   * hang hold at most these slots until their attempts time out, the others stay free for other
   * spaces.
   * @default half of `concurrency` while the configuration holds other spaces; every slot for a
   * gateway of one space
   * @example
   * ```ts
   * createGateway(store, { concurrency: 200, spaceConcurrency: 50 });
   * ```
   */
  spaceConcurrency?: number;
  /**
   * Deliveries running at once.
   * @default 100
   */
  concurrency?: number;
  /**
   * Deliveries running at once to any one function. Functions with queued deliveries are served
   * in turn, and while others have deliveries waiting a function takes no new slot past half of
   * `concurrency`, so a slow or failing function never holds up the others; alone, it may use
   * every slot up to this limit.
   * @default `concurrency`
   */
  functionConcurrency?: number;
  /**
   * Each delivery attempt's timeout, in ms (an http function's `provider.timeout` overrides it).
   * @default 10000
   */
  timeout?: number;
  /** How failed deliveries are retried (a function's `retry` overrides it field by field). */
  retry?: RetryOptions;
  /**
   * How long `close()` waits for pending deliveries, in ms, before it aborts and reports them.
   * @default 10000
   */
  drainTimeout?: number;
  /**
   * Receives every delivery that failed for good, with the reason, the last status and the
   * attempts. A hook that throws is reported as a `gateway.error` event.
   */
  onDeadLetter?: (letter: DeadLetter) => unknown;
  /**
   * Providers by function type: plug-ins (e.g. `awslambda`) or replacements of the built-in `http`
   * and `local` ones.
   */
  providers?: Record<string, Provider>;
  /**
   * How long `ready()`, and writes waiting for the first load, wait for the store before they
   * reject with StoreUnavailableError carrying the last store error, in ms.
   * @default 30000
   */
  readyTimeout?: number;
  /**
   * Largest answer read from an http function, in bytes. A larger one fails the attempt for good
   * (it is not read into memory) and the delivery is dead-lettered. (An `http` provider passed in
   * `providers` uses its own `maxResponseBytes` and `outbound` options instead.)
   * @default 6291456 (6 MiB)
   */
  maxResponseBytes?: number;
  /**
   * Deepest nesting of objects and arrays accepted in an event's `data` (and in `invoke`
   * payloads); deeper input is refused at intake with a ValidationError.
   * @default 64
   */
  maxDataDepth?: number;
  /**
   * Most times an event may come back through the gateway: every accepted event carries a
   * `hopcount` extension (0 when it first arrives, one more each time an event carrying it is
   * emitted again); past this it is refused with HopLimitError (422), counted in
   * `metrics().eventsLooped` and reported as an `event.refused` local event.
   * @default 16
   */
  maxHops?: number;
  /**
   * Most steps one event may take to match the filters of the subscriptions it could go to, all
   * of them together. A step is a field looked up or one value of the event tested against one
   * value or operator of a filter (a wildcard costs 3); a string costs a step more per 16
   * characters of the filter's text compared, and a wildcard's middle a step per 2 characters of
   * the event's string searched. An event that takes more is refused with FilterBudgetError (422)
   * before anything is delivered: however long its arrays, no event holds the process for more
   * than a few milliseconds (a step takes 1-25 ns). An ordinary event takes some 12 steps per
   * filtered candidate: the default is over 15,000 such candidates, more than the default
   * `queueSize`.
   * @default 200000
   * @example
   * ```ts
   * createGateway(store, { maxFilterWork: 3_000_000 }); // tenants filter long arrays on purpose
   * ```
   */
  maxFilterWork?: number;
  /**
   * Where functions may be reached: see {@link OutboundOptions}. Whatever it allows, no function
   * reaches the gateway's own store endpoints or the ports its adapters serve.
   */
  outbound?: OutboundOptions;
  /**
   * The stricter policy for functions tenants write (through the Configuration API served with
   * API keys, see `tenantWrites`): a tenant's function must pass both `outbound` and this. Per
   * space with `spaces`.
   * @default { allowLoopback: false, allowPrivate: false } (link-local and metadata are always blocked)
   * @example
   * ```ts
   * createGateway(store, {
   *   apiKeys,
   *   tenantOutbound: { allow: ['*.example.com'], spaces: { ops: { allowPrivate: true } } },
   * });
   * ```
   */
  tenantOutbound?: TenantOutboundOptions;
  /** AWS functions: where the host's default credentials may be used. */
  aws?: AwsOptions;
  /**
   * Records accepted deliveries before `emit` resolves, so that a crash loses none of them; on
   * start the gateway resumes what it holds unfinished: {@link LocalJournal} for one process,
   * {@link KafkaJournal} for a fleet (any instance may make what another accepted). Each journaled
   * delivery carries a `deliveryid` CloudEvents extension, the same on every attempt and after a
   * restart. Without it, accepted deliveries live in memory only.
   * @default none
   * @example
   * ```ts
   * createGateway(store, { journal: new LocalJournal({ directory: '/var/lib/gateway/journal' }) });
   * ```
   */
  journal?: Journal;
  /**
   * How this instance runs the connections of the configuration (`createConnection`): every
   * instance runs them, each unit of work (a Kafka partition, a Kinesis shard, a schedule's tick)
   * owned by one live instance at a time through leases in the store. `false`: this instance
   * runs none (a configuration-only instance, or a host that runs them itself).
   * @default {} (run them, with the defaults below)
   * @example
   * ```ts
   * createGateway(store, { connections: { leaseTtl: 30_000, maxMessageBytes: 256 * 1024 } });
   * ```
   */
  connections?: ConnectionsOptions | false;
  /**
   * What each space may hold, however its configuration is written (tenants through the
   * Configuration API, or the host): past a limit, a write is refused with LimitExceededError
   * (code LIMIT_EXCEEDED, HTTP 422) and changes nothing. Connections stored before a limit was
   * set stay stored; a schedule among them that ticks too often fires only the first tick of each
   * `minScheduleInterval`. Each limit left out has its default; `null` lifts it.
   * @default { connectionsPerSpace: 100, minScheduleInterval: 1000, recordsPerSpace: 1000 }
   * @example
   * ```ts
   * createGateway(store, { limits: { connectionsPerSpace: 20, minScheduleInterval: 60_000 } });
   * createGateway(store, { limits: { connectionsPerSpace: null } }); // no count limit
   * ```
   */
  limits?: LimitsOptions;
  /**
   * Intake plugins, in the order they run: each sees every event from outside (`emit`, the
   * Events API, replay) before routing and may refuse or enrich it, and hears of its outcome.
   * Archives ({@link S3Archive}, {@link KafkaArchive}) are plugins. More can be added with
   * `gateway.use(plugin)`.
   * @default []
   * @example
   * ```ts
   * createGateway(store, { plugins: [new S3Archive({ bucket: 'events' })] });
   * ```
   */
  plugins?: readonly IntakePlugin[];
  /**
   * OpenTelemetry tracing, through the optional peer dependency `@opentelemetry/api`: a span per
   * accepted event (its acceptance, with the plugins' screening) and per delivery attempt (a
   * child of it), W3C trace context read from the Events API's headers, the event's
   * `traceparent` extension or the active context of the `emit` caller, and passed on to every
   * function (the `traceparent` header and extension). `true` or `{ tracerProvider }`: on;
   * `false`: off. Left out: on when a global tracer provider is registered when the gateway is
   * created (start the OpenTelemetry SDK first), else off, and `@opentelemetry/api` is not loaded.
   * @default on when a global tracer provider is registered, else off
   * @example
   * ```ts
   * createGateway(store, { tracing: { tracerProvider: provider } });
   * ```
   */
  tracing?: TracingOption;
}

/** The option names {@link createGateway} knows: any other is a typo, refused. */
const OPTION_NAMES: readonly string[] = [
  'space',
  'prefix',
  'consistencyTimeout',
  'resyncInterval',
  'listPageSize',
  'maxWriteAttempts',
  'queueSize',
  'spaceQueueSize',
  'spaceConcurrency',
  'concurrency',
  'functionConcurrency',
  'timeout',
  'retry',
  'drainTimeout',
  'onDeadLetter',
  'providers',
  'readyTimeout',
  'maxResponseBytes',
  'maxDataDepth',
  'outbound',
  'tenantOutbound',
  'aws',
  'journal',
  'maxHops',
  'maxFilterWork',
  'plugins',
  'connections',
  'tracing',
  'limits',
];

/** The limits of {@link GatewayOptions.limits}. */
export interface LimitsOptions {
  /**
   * The most connections a space may hold: a create past it is refused. While it is set,
   * concurrent creates of connections in one space (on any instance) commit one at a time, so
   * that together they cannot pass it either. `null`: no limit.
   * @default 100
   */
  readonly connectionsPerSpace?: number | null;
  /**
   * The most event types, functions, subscriptions or CORS configurations (each kind counted on
   * its own) a tenant may create in a space, through the Configuration API served with API keys
   * (`writer: 'tenant'`): a create past it is refused (the host's own writes are not, but count).
   * Every instance keeps every record in memory: without it, one tenant's creates would grow
   * every instance's memory and the store without end. Concurrent tenant creates of a kind in a
   * space commit one at a time. `null`: no limit.
   * @default 1000
   */
  readonly recordsPerSpace?: number | null;
  /**
   * The shortest time between two ticks of a schedule connection, in ms (`* * * * * *` ticks
   * every 1000): a schedule that would tick more often is refused on create and on update. The
   * gap is computed from the cron expression's fields; between days it counts the last tick of a
   * day and the first of the next, even for a schedule that skips days. Needs the `cron-parser`
   * package (which schedules need anyway). A schedule stored with closer ticks (before the
   * limit was set) fires the first tick of each interval counted from the epoch, the same ticks
   * on every instance, and reports it as its last error. `null`: no limit (an invalid cron
   * expression is then only reported when its schedule starts).
   * @default 1000 (every second, the finest a cron expression ticks: it parses each schedule when
   * written), or none when `cron-parser` is not installed (no schedule can run then)
   */
  readonly minScheduleInterval?: number | null;
}

/** Options of the connections an instance runs: see {@link GatewayOptions.connections}. */
export interface ConnectionsOptions extends Partial<
  Pick<ConnectionRunnerOptions, 'instanceId' | 'leaseTtl' | 'maxMessageBytes' | 'drainTimeout'>
> {
  /** This instance's ID in leases. @default a random UUID */
  readonly instanceId?: string;
  /**
   * How long a lease lasts without renewal, in ms: a dead instance's units move within it.
   * @default 15000
   */
  readonly leaseTtl?: number;
  /** The largest message taken; larger ones are refused (dead-lettered). @default 1048576 */
  readonly maxMessageBytes?: number;
  /** How long `close()` waits for the events the sources have in flight. @default 5000 */
  readonly drainTimeout?: number;
}

/** {@link GatewayOptions} with every default applied. */
export type ResolvedGatewayOptions = Required<
  Omit<
    GatewayOptions,
    | 'onDeadLetter'
    | 'providers'
    | 'retry'
    | 'outbound'
    | 'tenantOutbound'
    | 'aws'
    | 'journal'
    | 'connections'
    | 'tracing'
    | 'limits'
    | 'spaceQueueSize'
    | 'spaceConcurrency'
  >
> & {
  /** See {@link GatewayOptions.spaceQueueSize}: undefined for its default. */
  spaceQueueSize?: number;
  /** See {@link GatewayOptions.spaceConcurrency}: undefined for its default. */
  spaceConcurrency?: number;
  /** See {@link GatewayOptions.tracing}: as given (the gateway decides once whether it traces). */
  tracing?: TracingOption;
  /** See {@link GatewayOptions.limits}, with what checks a schedule's interval. */
  limits: ConnectionLimits;
  /** See {@link GatewayOptions.connections}. */
  connections: ConnectionsOptions | false;
  /** See {@link GatewayOptions.plugins}. */
  plugins: readonly IntakePlugin[];
  /** See {@link GatewayOptions.journal}. */
  journal?: Journal;
  retry: RetryPolicy;
  /** See {@link GatewayOptions.outbound}: the host's policy. */
  outbound: OutboundPolicy;
  /** The host's, the tenants' and the protected endpoints: see {@link OutboundPolicies}. */
  outboundPolicies: OutboundPolicies;
  /** See {@link GatewayOptions.aws}. */
  aws: AwsOptions;
  /** See {@link GatewayOptions.onDeadLetter}. */
  onDeadLetter?: (letter: DeadLetter) => unknown;
  providers: Record<string, Provider>;
};

/**
 * The `limits` option checked, with its defaults (see {@link LimitsOptions}), and the schedule
 * parser when schedules are limited.
 */
function resolveLimits(limits: LimitsOptions = {}): ConnectionLimits {
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
    throw new ValidationError('createGateway: option "limits" must be an object.');
  }
  const known = ['connectionsPerSpace', 'minScheduleInterval', 'recordsPerSpace'];
  for (const name of Object.keys(limits)) {
    if (!known.includes(name)) {
      throw new ValidationError(
        `createGateway: unknown option "limits.${name}" (known: ${known.join(', ')}).`,
      );
    }
  }
  const {
    connectionsPerSpace = DEFAULT_CONNECTIONS_PER_SPACE,
    recordsPerSpace = DEFAULT_RECORDS_PER_SPACE,
    minScheduleInterval,
  } = limits;
  // 0 is a limit too: none in any space.
  for (const [name, value] of Object.entries({ connectionsPerSpace, recordsPerSpace })) {
    if (value !== null && (!Number.isSafeInteger(value) || value < 0)) {
      throw new ValidationError(
        `createGateway: option "limits.${name}" must be a non-negative integer, or null for no limit.`,
      );
    }
  }
  const counted = {
    ...(connectionsPerSpace === null ? {} : { connectionsPerSpace }),
    ...(recordsPerSpace === null ? {} : { recordsPerSpace }),
  };
  if (minScheduleInterval === null) return counted;
  if (minScheduleInterval === undefined) {
    return {
      ...counted,
      minScheduleInterval: DEFAULT_MIN_SCHEDULE_INTERVAL,
      scheduleGap: defaultScheduleGap,
    };
  }
  positiveOption(minScheduleInterval, 'limits.minScheduleInterval', MAX_TIMER_MS);
  const { shortestScheduleGap } = scheduleGapModule();
  try {
    shortestScheduleGap('* * * * *');
  } catch (error) {
    throw new ValidationError(
      `createGateway: option "limits.minScheduleInterval" needs the schedule parser: ${(error as Error).message}`,
    );
  }
  return { ...counted, minScheduleInterval, scheduleGap: shortestScheduleGap };
}

/** The schedules' code, loaded only when a limit needs it (a gateway without schedules never does). */
function scheduleGapModule(): typeof ScheduleGap {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose
  return require('./sources/schedule-gap') as typeof ScheduleGap;
}

/**
 * The default limit's gap, its parser loaded by the first schedule written. Without the parser no
 * schedule can run at all, so the default has nothing to check (a limit the host gives needs it).
 */
function defaultScheduleGap(cron: string, timezone?: string): number {
  const gapModule = scheduleGapModule();
  try {
    gapModule.cronParser();
  } catch {
    return Infinity;
  }
  return gapModule.shortestScheduleGap(cron, timezone);
}

/** Applies defaults and rejects impossible values with a ValidationError. */
export function resolveOptions(options: GatewayOptions = {}): ResolvedGatewayOptions {
  optionsArgument(options, 'createGateway(store, options)');
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.includes(name)) {
      throw new TypeError(
        `createGateway(store, options): unknown option "${name}" (known: ${OPTION_NAMES.join(', ')}).`,
      );
    }
  }
  const outboundPolicies = new OutboundPolicies(options);
  const resolved: ResolvedGatewayOptions = {
    space: options.space ?? 'default',
    prefix: options.prefix ?? DEFAULT_ROOT,
    consistencyTimeout: options.consistencyTimeout ?? 10_000,
    resyncInterval: options.resyncInterval ?? 300_000,
    listPageSize: options.listPageSize ?? 10_000,
    maxWriteAttempts: options.maxWriteAttempts ?? 10,
    queueSize: options.queueSize ?? 10_000,
    concurrency: options.concurrency ?? 100,
    functionConcurrency: options.functionConcurrency ?? options.concurrency ?? 100,
    ...(options.spaceQueueSize !== undefined ? { spaceQueueSize: options.spaceQueueSize } : {}),
    ...(options.spaceConcurrency !== undefined
      ? { spaceConcurrency: options.spaceConcurrency }
      : {}),
    timeout: options.timeout ?? 10_000,
    drainTimeout: options.drainTimeout ?? 10_000,
    retry: resolveRetry(options.retry, DEFAULT_RETRY, (detail) => {
      throw new ValidationError(`createGateway: option ${detail}`);
    }),
    onDeadLetter: options.onDeadLetter,
    providers: { ...options.providers },
    readyTimeout: options.readyTimeout ?? 30_000,
    maxResponseBytes: options.maxResponseBytes ?? 6 * 1024 * 1024,
    maxDataDepth: options.maxDataDepth ?? 64,
    maxHops: options.maxHops ?? 16,
    maxFilterWork: options.maxFilterWork ?? 200_000,
    outbound: outboundPolicies.host,
    outboundPolicies,
    aws: { ...options.aws },
    journal: options.journal,
    connections:
      options.connections === false ? false : { ...(options.connections as ConnectionsOptions) },
    plugins: Array.isArray(options.plugins) ? [...options.plugins] : [],
    limits: resolveLimits(options.limits),
    tracing: options.tracing,
  };
  const tracing = options.tracing as unknown;
  const provider = (tracing as { tracerProvider?: { getTracer?: unknown } } | null)?.tracerProvider;
  if (
    !(tracing === undefined || typeof tracing === 'boolean') &&
    (typeof tracing !== 'object' ||
      tracing === null ||
      (provider !== undefined && typeof provider?.getTracer !== 'function'))
  ) {
    throw new ValidationError(
      'createGateway: option "tracing" must be a boolean or { tracerProvider } (a tracer provider has getTracer()).',
    );
  }
  if (options.plugins !== undefined && !Array.isArray(options.plugins)) {
    throw new ValidationError(
      'createGateway: option "plugins" must be an array of intake plugins.',
    );
  }
  const journal = resolved.journal as Partial<Journal> | undefined;
  if (
    journal !== undefined &&
    (typeof journal?.open !== 'function' || typeof journal.record !== 'function')
  ) {
    throw new ValidationError(
      `createGateway: option "journal" must be a Journal (e.g. new LocalJournal(...)).`,
    );
  }
  const connections = options.connections;
  if (connections !== undefined && connections !== false) {
    if (typeof connections !== 'object' || connections === null || Array.isArray(connections)) {
      throw new ValidationError(
        'createGateway: option "connections" must be an object of connection options, or false.',
      );
    }
    // A lease TTL of 0 or past the timer's range would renew in a tight loop against the store.
    for (const name of ['leaseTtl', 'drainTimeout'] as const) {
      const value = connections[name];
      if (value !== undefined) positiveOption(value, `connections.${name}`, MAX_TIMER_MS);
    }
    if (connections.maxMessageBytes !== undefined) {
      positiveOption(connections.maxMessageBytes, 'connections.maxMessageBytes');
    }
    if (connections.instanceId !== undefined && typeof connections.instanceId !== 'string') {
      throw new ValidationError('createGateway: option "connections.instanceId" must be a string.');
    }
  }
  if (resolved.onDeadLetter !== undefined && typeof resolved.onDeadLetter !== 'function') {
    throw new ValidationError(`createGateway: option "onDeadLetter" must be a function.`);
  }
  for (const [type, provider] of Object.entries(resolved.providers)) {
    if (typeof provider?.invoke !== 'function') {
      throw new ValidationError(`createGateway: providers.${type} must have an invoke() method.`);
    }
  }
  for (const name of [
    'listPageSize',
    'maxWriteAttempts',
    'concurrency',
    'functionConcurrency',
    'queueSize',
    'maxResponseBytes',
    'maxDataDepth',
    'maxHops',
    'maxFilterWork',
  ] as const) {
    if (!Number.isSafeInteger(resolved[name]) || resolved[name] <= 0) {
      throw new ValidationError(`createGateway: option "${name}" must be a positive integer.`);
    }
  }
  for (const name of ['spaceQueueSize', 'spaceConcurrency'] as const) {
    const value = resolved[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw new ValidationError(`createGateway: option "${name}" must be a positive integer.`);
    }
  }
  // Timers overflow past 2^31-1 ms and fire after 1 ms: refuse such durations.
  for (const name of ['consistencyTimeout', 'timeout', 'drainTimeout', 'readyTimeout'] as const) {
    if (!Number.isInteger(resolved[name]) || resolved[name] <= 0 || resolved[name] > MAX_TIMER_MS) {
      throw new ValidationError(
        `createGateway: option "${name}" must be a positive integer of at most ${MAX_TIMER_MS} (ms).`,
      );
    }
  }
  if (
    !Number.isInteger(resolved.resyncInterval) ||
    resolved.resyncInterval < 0 ||
    resolved.resyncInterval > MAX_TIMER_MS
  ) {
    throw new ValidationError(
      `createGateway: option "resyncInterval" must be 0 or a positive integer of at most ${MAX_TIMER_MS} (ms).`,
    );
  }
  if (typeof resolved.prefix !== 'string' || !resolved.prefix.startsWith('/')) {
    throw new ValidationError(`createGateway: option "prefix" must be a string starting with "/".`);
  }
  if (!isValidSpace(resolved.space)) {
    throw new ValidationError(
      `createGateway: option "space" must match ^[a-zA-Z0-9.\\-_]+$ and be at least 3 characters long.`,
    );
  }
  return resolved;
}
